import { parse as parseYaml } from "yaml";
import * as z from "../zod";
import { BundleRejectedError } from "./rejection";

export const APPSPEC_FILE = "appspec.yml";

export const HOOK_NAMES = [
  "ApplicationStop",
  "BeforeInstall",
  "AfterInstall",
  "ApplicationStart",
  "ValidateService",
] as const;

export type HookName = (typeof HOOK_NAMES)[number];

/** CodeDeploy's own default and ceiling for one hook script. */
export const DEFAULT_HOOK_TIMEOUT_SECONDS = 3600;

/** CodeDeploy gives all the scripts of one lifecycle event this long together. */
export const MAX_HOOK_TOTAL_SECONDS = 3600;

// CodeDeploy's agent hands the name to `su` in a shell command; a portable POSIX user name can
// be neither an option nor shell syntax. No trailing "$": that is for Samba machine accounts.
const RUNAS_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;

const HookScriptSchema = z.strictObject({
  location: z.string().check(z.minLength(1)),
  timeout: z._default(
    z.number().check(z.int(), z.gte(1), z.lte(DEFAULT_HOOK_TIMEOUT_SECONDS)),
    DEFAULT_HOOK_TIMEOUT_SECONDS,
  ),
  runas: z.optional(
    z
      .string()
      .check(
        z.regex(
          RUNAS_PATTERN,
          'expected a user name: lower-case letters, digits, "_" and "-", starting with a letter or "_", at most 32 characters',
        ),
      ),
  ),
});

// Checked after defaults are filled in, so a script without `timeout` counts as CodeDeploy
// counts it: the full 3600 s, which leaves nothing for the event's other scripts.
const hookList = (hook: HookName) =>
  z.array(HookScriptSchema).check(
    z.minLength(1),
    z.superRefine((scripts, ctx) => {
      const total = scripts.reduce((sum, script) => sum + script.timeout, 0);
      if (total <= MAX_HOOK_TOTAL_SECONDS) return;
      const defaults = scripts.some((script) => script.timeout === DEFAULT_HOOK_TIMEOUT_SECONDS)
        ? ` (a script without timeout counts as ${DEFAULT_HOOK_TIMEOUT_SECONDS} s)`
        : "";
      ctx.addIssue({
        code: "custom",
        message: `the scripts of hook ${hook} add up to ${total} s${defaults}; CodeDeploy allows at most ${MAX_HOOK_TOTAL_SECONDS} s for all scripts of one lifecycle event`,
      });
    }),
  );

const HooksSchema = z.strictObject(
  {
    ApplicationStop: z.optional(hookList("ApplicationStop")),
    BeforeInstall: z.optional(hookList("BeforeInstall")),
    AfterInstall: z.optional(hookList("AfterInstall")),
    ApplicationStart: z.optional(hookList("ApplicationStart")),
    ValidateService: z.optional(hookList("ValidateService")),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown hook ${issue.keys.map((key) => `"${key}"`).join(", ")}; allowed hooks: ${HOOK_NAMES.join(", ")}`
        : undefined,
  },
);

// YAML reads `mode: 644` as the number 644; CodeDeploy means the octal digits either way.
const ModeSchema = z.pipe(
  z.pipe(z.union([z.number().check(z.int(), z.nonnegative()), z.string()]), z.transform(String)),
  z.string().check(z.regex(/^[0-7]{3,4}$/, "expected 3 or 4 octal digits, such as 644 or 4755")),
);

export const AppSpecSchema = z
  .strictObject({
    // CodeDeploy writes `version: 0.0`, which YAML reads as the number 0.
    version: z.pipe(
      z.union([z.literal(0), z.literal("0.0")]),
      z.transform(() => "0.0" as const),
    ),
    os: z.enum(["linux", "windows"]),
    files: z.optional(
      z.array(
        z.strictObject({
          source: z.string().check(z.minLength(1)),
          destination: z.string().check(z.minLength(1)),
        }),
      ),
    ),
    permissions: z.optional(
      z.array(
        z.strictObject({
          object: z.string().check(z.minLength(1)),
          pattern: z.optional(z.string().check(z.minLength(1))),
          except: z.optional(z.array(z.string())),
          owner: z.optional(z.string().check(z.minLength(1))),
          group: z.optional(z.string().check(z.minLength(1))),
          mode: z.optional(ModeSchema),
          type: z.optional(z.array(z.enum(["file", "directory"])).check(z.minLength(1))),
        }),
      ),
    ),
    hooks: z.optional(HooksSchema),
  })
  .check(
    z.superRefine((spec, ctx) => {
      if (spec.os === "windows") {
        // CodeDeploy documents runas for Amazon Linux and Ubuntu only; a Windows agent would run
        // the script as itself, which is not what the appspec asks for.
        for (const hook of HOOK_NAMES) {
          for (const [index, script] of (spec.hooks?.[hook] ?? []).entries()) {
            if (script.runas === undefined) continue;
            ctx.addIssue({
              code: "custom",
              path: ["hooks", hook, index, "runas"],
              message: "runas is not supported when os is windows",
            });
          }
        }
        return;
      }
      // A relative path would be resolved against the agent's working folder, which nobody chose.
      // Windows paths (drive letters, UNC shares) take too many forms to check here; they are not.
      for (const [index, file] of (spec.files ?? []).entries()) {
        if (!file.destination.startsWith("/")) {
          ctx.addIssue({
            code: "custom",
            path: ["files", index, "destination"],
            message: `${JSON.stringify(file.destination)} is not an absolute path; on linux it must start with "/"`,
          });
        }
      }
      for (const [index, permission] of (spec.permissions ?? []).entries()) {
        if (!permission.object.startsWith("/")) {
          ctx.addIssue({
            code: "custom",
            path: ["permissions", index, "object"],
            message: `${JSON.stringify(permission.object)} is not an absolute path; on linux it must start with "/"`,
          });
        }
      }
    }),
  );

export type AppSpec = z.infer<typeof AppSpecSchema>;

export function parseAppSpec(text: string): AppSpec {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BundleRejectedError(
      "INVALID_APPSPEC",
      `${APPSPEC_FILE} is not valid YAML: ${reason}`,
      { cause: error },
    );
  }
  const result = AppSpecSchema.safeParse(document);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${formatIssuePath(issue.path)}: ${issue.message}`,
    );
    throw new BundleRejectedError(
      "INVALID_APPSPEC",
      `${APPSPEC_FILE} is invalid: ${problems.join("; ")}`,
      { cause: result.error },
    );
  }
  return result.data;
}

function formatIssuePath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(top level)";
  return path
    .map((part, index) =>
      typeof part === "number" ? `[${part}]` : `${index === 0 ? "" : "."}${String(part)}`,
    )
    .join("");
}
