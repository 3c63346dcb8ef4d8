import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { BundleRejectedError } from "./rejection";

export const APPSPEC_FILE = "appspec.yml";

export const HOOK_NAMES = [
  "ApplicationStop",
  "BeforeInstall",
  "AfterInstall",
  "ApplicationStart",
  "ValidateService",
] as const;

/** CodeDeploy's own default and ceiling for one hook script. */
export const DEFAULT_HOOK_TIMEOUT_SECONDS = 3600;

const HookScriptSchema = z.strictObject({
  location: z.string().min(1),
  timeout: z.number().int().min(1).max(3600).default(DEFAULT_HOOK_TIMEOUT_SECONDS),
  runas: z.string().min(1).optional(),
});

const hookListSchema = z.array(HookScriptSchema).min(1);

const HooksSchema = z.strictObject(
  {
    ApplicationStop: hookListSchema.optional(),
    BeforeInstall: hookListSchema.optional(),
    AfterInstall: hookListSchema.optional(),
    ApplicationStart: hookListSchema.optional(),
    ValidateService: hookListSchema.optional(),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown hook ${issue.keys.map((key) => `"${key}"`).join(", ")}; allowed hooks: ${HOOK_NAMES.join(", ")}`
        : undefined,
  },
);

// YAML reads `mode: 644` as the number 644; CodeDeploy means the octal digits either way.
const ModeSchema = z
  .union([z.number().int().nonnegative(), z.string()])
  .transform(String)
  .pipe(z.string().regex(/^[0-7]{3,4}$/, "expected 3 or 4 octal digits, such as 644 or 4755"));

export const AppSpecSchema = z.strictObject({
  // CodeDeploy writes `version: 0.0`, which YAML reads as the number 0.
  version: z.union([z.literal(0), z.literal("0.0")]).transform(() => "0.0" as const),
  os: z.enum(["linux", "windows"]),
  files: z
    .array(z.strictObject({ source: z.string().min(1), destination: z.string().min(1) }))
    .optional(),
  permissions: z
    .array(
      z.strictObject({
        object: z.string().min(1),
        pattern: z.string().min(1).optional(),
        except: z.array(z.string()).optional(),
        owner: z.string().min(1).optional(),
        group: z.string().min(1).optional(),
        mode: ModeSchema.optional(),
        type: z
          .array(z.enum(["file", "directory"]))
          .min(1)
          .optional(),
      }),
    )
    .optional(),
  hooks: HooksSchema.optional(),
});

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
