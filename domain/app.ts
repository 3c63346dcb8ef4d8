import { TriggerSchema } from "./triggers";
import { DeploymentWindowSchema } from "./window";
import * as z from "./zod";

export const AppNameSchema = z
  .string()
  .check(
    z.regex(
      /^[a-z0-9][a-z0-9-]{1,62}$/,
      "app names are 2-63 characters of lower-case letters, digits and '-', starting with a letter or digit",
    ),
  );

/**
 * What happens when a change arrives while an earlier run of the same app is still going:
 * `queued` waits its turn, `superseded` replaces any run still waiting, `parallel` starts at once.
 */
export const ExecutionModeSchema = z.enum(["queued", "superseded", "parallel"]);
export type ExecutionMode = z.infer<typeof ExecutionModeSchema>;

/** A path inside the clone: relative, with no empty, "." or ".." segment and no backslash. */
const ClonePathSchema = z.string().check(
  z.minLength(1),
  z.maxLength(1024),
  z.refine(
    (p) => p === "." || p.split("/").every((s) => s !== "" && s !== "." && s !== ".."),
    'must be "." or a relative path inside the clone, without "", "." or ".." segments',
  ),
  z.refine((p) => !/[\\\0\n]/.test(p), "must not hold a backslash, NUL or newline"),
);

/**
 * What the build packs as the run's release bundle (buildspec `artifacts`, in spirit): the
 * files under baseDirectory (a folder of the clone) that `files` match, as bash globstar
 * patterns relative to it; a matched folder brings everything in it.
 */
export const BuildArtifactsSchema = z.strictObject({
  baseDirectory: z._default(ClonePathSchema, "."),
  files: z._default(z.array(ClonePathSchema).check(z.minLength(1), z.maxLength(100)), ["**"]),
});
export type BuildArtifacts = z.infer<typeof BuildArtifactsSchema>;

/** The build stage: commands run in a fresh clone of the repository at the run's commit. */
export const BuildConfigSchema = z.strictObject({
  commands: z
    .array(z.string().check(z.minLength(1)))
    .check(z.minLength(1, "a build needs at least one command")),
  env: z._default(z.record(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/)), z.string()), {}),
  timeoutMinutes: z._default(z.number().check(z.int(), z.gte(1), z.lte(480)), 60),
  /** Without it, a build of an app with deploy stages packs the whole clone. */
  artifacts: z.optional(BuildArtifactsSchema),
});
export type BuildConfig = z.infer<typeof BuildConfigSchema>;

/** Names the run's own steps take; a stage of the definition cannot take them. */
const RESERVED_STAGE_NAMES = new Set(["source", "build"]);

const StageNameSchema = z.string().check(
  z.regex(
    /^[a-z][a-z0-9-]{0,31}$/,
    "stage names are 1-32 lower-case letters, digits and '-', starting with a letter",
  ),
  z.refine((name) => !RESERVED_STAGE_NAMES.has(name), "source and build are the run's own steps"),
);

/** A wait (Spinnaker's Wait stage): the run pauses this long, e.g. to let a change soak. */
export const WaitSchema = z
  .strictObject({
    minutes: z.optional(z.number().check(z.int(), z.gte(0), z.lte(525_600))),
    seconds: z.optional(z.number().check(z.int(), z.gte(0), z.lte(59))),
  })
  .check(
    z.refine((w) => w.minutes !== undefined || w.seconds !== undefined, "give minutes or seconds"),
  );

/** An email address, as the approval links are sent to it and compared on a decision. */
const EmailSchema = z.string().check(z.email("must be an email address"), z.maxLength(254));

/** Someone who may decide an app's approvals, by at least one proof of who they are. */
export const ApproverSchema = z
  .strictObject({
    /** Gets a personal link by email; a decision through it is this approver's. */
    email: z.optional(EmailSchema),
    /** A Slack user id: that user's button clicks are this approver's decisions. */
    slack: z.optional(
      z
        .string()
        .check(z.regex(/^[UW][A-Z0-9]{2,20}$/, "must be a Slack user id such as U024BE7LH")),
    ),
    /** An IAM principal ARN: that caller's CLI and API decisions are this approver's. */
    iam: z.optional(
      z
        .string()
        .check(
          z.regex(
            /^arn:aws[\w-]*:(iam|sts)::\d{12}:[\w+=,.@/-]+$/,
            "must be an IAM principal ARN such as arn:aws:iam::123456789012:user/alice",
          ),
        ),
    ),
  })
  .check(
    z.refine(
      (a) => a.email !== undefined || a.slack !== undefined || a.iam !== undefined,
      "an approver needs an email, a slack user id or an iam principal",
    ),
  );

/**
 * A manual approval: the run waits for someone to approve or reject it. Undecided after
 * timeoutMinutes (CodePipeline's default is 7 days), the run ends rejected. Without approvers,
 * anyone the API lets in decides through the API or the CLI (there is nobody to send links to).
 */
export const ApprovalSchema = z
  .strictObject({
    timeoutMinutes: z._default(
      z.number().check(z.int(), z.gte(5), z.lte(60 * 24 * 60)),
      60 * 24 * 7,
    ),
    approvers: z._default(z.array(ApproverSchema).check(z.maxLength(50)), []),
    /** How many distinct approvers must approve; one rejection rejects. */
    requiredApprovals: z._default(z.number().check(z.int(), z.gte(1), z.lte(50)), 1),
    /** The change's author may not approve it. */
    forbidSelfApproval: z._default(z.boolean(), false),
    /** Whether the request goes to the deployment's Slack channel. */
    slack: z._default(z.boolean(), true),
    /** Whether each approver with an email gets their link by email. */
    email: z._default(z.boolean(), true),
  })
  .check(
    z.superRefine((approval, ctx) => {
      const listed = approval.approvers.length;
      if (listed > 0 && approval.requiredApprovals > listed) {
        ctx.addIssue({
          code: "custom",
          path: ["requiredApprovals"],
          message: `${approval.requiredApprovals} approvals are required of only ${listed} approvers`,
        });
      }
      const seen = new Set<string>();
      approval.approvers.forEach((approver, i) => {
        for (const proof of [approver.email?.toLowerCase(), approver.slack, approver.iam]) {
          if (proof === undefined) continue;
          if (seen.has(proof)) {
            ctx.addIssue({
              code: "custom",
              path: ["approvers", i],
              message: `${proof} names two approvers`,
            });
          }
          seen.add(proof);
        }
      });
    }),
  );

const CodeDeployNameSchema = z
  .string()
  .check(z.regex(/^[\w.+-]{1,100}$/, "CodeDeploy names are 1-100 letters, digits and . _ + -"));

/** CloudWatch alarms watched while a deployment runs and while it bakes (CodeDeploy's limit). */
const AlarmsSchema = z._default(
  z
    .array(z.string().check(z.minLength(1), z.maxLength(255)))
    .check(z.maxLength(10, "a deployment group watches at most 10 alarms")),
  [],
);

/** Commands run after a stage's deployment, against it; a failing command fails the stage. */
export const TestsSchema = z.strictObject({
  commands: z
    .array(z.string().check(z.minLength(1)))
    .check(z.minLength(1, "tests need at least one command")),
  env: z._default(z.record(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/)), z.string()), {}),
  timeoutMinutes: z._default(z.number().check(z.int(), z.gte(1), z.lte(480)), 30),
});

const deployment = {
  deploymentGroup: CodeDeployNameSchema,
  /** CodeDeployDefault.OneAtATime, HalfAtATime, AllAtOnce, or a custom config's name. */
  deploymentConfig: z._default(CodeDeployNameSchema, "CodeDeployDefault.OneAtATime"),
  alarms: AlarmsSchema,
  /** How long the deployment may take before the stage fails. */
  timeoutMinutes: z._default(z.number().check(z.int(), z.gte(1), z.lte(24 * 60)), 60),
  /** When the deployment may start; outside it, the run waits for it to open. */
  window: z.optional(DeploymentWindowSchema),
};

/** A deployment of the run's revision to a deployment group (beta, gamma), then its tests. */
export const DeploySchema = z.strictObject({
  ...deployment,
  tests: z.optional(TestsSchema),
});

const WaveNameSchema = z
  .string()
  .check(z.regex(/^[a-z][a-z0-9-]{0,31}$/, "wave names are like stage names"));

/** A production wave: a deployment, then a bake with its alarms watched. */
export const WaveSchema = z.strictObject({
  name: z.optional(WaveNameSchema),
  ...deployment,
  /** How long the wave bakes after it deploys; the first (one-box) wave often bakes longer. */
  bakeMinutes: z._default(z.number().check(z.int(), z.gte(0), z.lte(7 * 24 * 60)), 0),
});

/** Production: waves in order, each deployed and baked before the next begins. */
export const ProductionSchema = z.strictObject({
  /** The window of every wave that has none of its own. */
  window: z.optional(DeploymentWindowSchema),
  waves: z
    .array(WaveSchema)
    .check(z.minLength(1, "production needs at least one wave"), z.maxLength(20)),
});

const STAGE_KINDS = ["wait", "approval", "deploy", "production"] as const;

/**
 * One stage of the definition: its name and exactly one of its kinds. One object rather than a
 * union of them, so a mistake inside a stage is reported at its own path.
 */
export const StageDefinitionSchema = z
  .strictObject({
    name: StageNameSchema,
    wait: z.optional(WaitSchema),
    approval: z.optional(ApprovalSchema),
    deploy: z.optional(DeploySchema),
    production: z.optional(ProductionSchema),
  })
  .check(
    z.refine(
      (stage) => STAGE_KINDS.filter((kind) => stage[kind] !== undefined).length === 1,
      `a stage is exactly one of ${STAGE_KINDS.join(", ")}`,
    ),
  );
export type StageDefinition = z.infer<typeof StageDefinitionSchema>;

export const PipelineDefinitionSchema = z.strictObject({
  description: z.optional(z.string().check(z.maxLength(500))),
  /** Where the build stage clones from: a git URL, or a path or file:// URL locally. */
  repository: z.optional(z.string().check(z.minLength(1))),
  /** Which pushes start a run (CodePipeline V2 push filters); none means every push. */
  triggers: z._default(z.array(z.strictObject(TriggerSchema.shape)), []),
  executionMode: z._default(ExecutionModeSchema, "queued"),
  /** Without a build, git runs go straight from source to the stages after build. */
  build: z.optional(BuildConfigSchema),
  /** The CodeDeploy application the app's deployment groups belong to (default: the app's name). */
  codedeploy: z.optional(z.strictObject({ application: z.optional(CodeDeployNameSchema) })),
  /** What a run goes through after its source and build, in this order. */
  stages: z._default(z.array(StageDefinitionSchema).check(z.maxLength(50)), []).check(
    z.superRefine((stages, ctx) => {
      const seen = new Set<string>();
      stages.forEach((stage, i) => {
        if (seen.has(stage.name)) {
          ctx.addIssue({
            code: "custom",
            path: [i, "name"],
            message: `stage name ${stage.name} is used twice`,
          });
        }
        seen.add(stage.name);
        stage.production?.waves.forEach((wave, w) => {
          const id = `${stage.name}/${wave.name ?? `wave-${w + 1}`}`;
          if (seen.has(id)) {
            ctx.addIssue({
              code: "custom",
              path: [i, "production", "waves", w, "name"],
              message: `wave ${id} is named twice`,
            });
          }
          seen.add(id);
        });
      });
      if (stages.filter((s) => s.production).length > 1) {
        ctx.addIssue({ code: "custom", path: [], message: "a pipeline has one production stage" });
      }
    }),
  ),
});

export const AppSchema = z.object({
  name: AppNameSchema,
  pipeline: PipelineDefinitionSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Who last registered or replaced the definition: the IAM principal (locally the CLI user). */
  updatedBy: z.optional(z.string()),
});
export type App = z.infer<typeof AppSchema>;
