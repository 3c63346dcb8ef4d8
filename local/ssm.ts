import { createHash } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import * as z from "../domain/zod";
import { AwsServiceError, type Operations } from "./aws-json-server";

const ParameterTypeSchema = z.enum(["String", "StringList", "SecureString"]);

// SSM's own rules: a path of up to 15 levels, 2048 characters; a standard parameter's value
// holds at most 4 KB.
const NameSchema = z.string().check(
  z.minLength(1),
  z.maxLength(2048),
  z.regex(/^\/?[\w.-]+(\/[\w.-]+)*$/, "names are letters, digits, _ . - and / between levels"),
  z.refine((name) => name.split("/").filter(Boolean).length <= 15, "at most 15 levels"),
);

const StoredParameterSchema = z.object({
  Name: NameSchema,
  Type: ParameterTypeSchema,
  Value: z.string(),
  Version: z.number().check(z.int(), z.positive()),
  LastModifiedDate: z.number(),
  Description: z.optional(z.string()),
});
type StoredParameter = z.infer<typeof StoredParameterSchema>;

const StateSchema = z.record(z.string(), StoredParameterSchema);

const GetInputSchema = z.looseObject({ Name: NameSchema, WithDecryption: z.optional(z.boolean()) });
const PutInputSchema = z.looseObject({
  Name: NameSchema,
  Value: z.string().check(z.minLength(1), z.maxLength(4096)),
  Type: z._default(ParameterTypeSchema, "String"),
  Overwrite: z.optional(z.boolean()),
  Description: z.optional(z.string().check(z.maxLength(1024))),
});
/** The one filter Sluice's operators need: parameters by name (`--parameter-filters Key=Name,Values=...`). */
const DescribeInputSchema = z.looseObject({
  ParameterFilters: z.optional(
    z.array(
      z.object({
        Key: z.literal("Name"),
        Option: z.optional(z.literal("Equals")),
        Values: z.array(NameSchema).check(z.minLength(1)),
      }),
    ),
  ),
});
const DeleteInputSchema = z.looseObject({ Name: NameSchema });

/**
 * An SSM Parameter Store stand-in for the calls Sluice makes: GetParameter, PutParameter and
 * DeleteParameter, and DescribeParameters by name, where a parameter's description (who set a
 * webhook secret, and when) is read. Parameters persist in one JSON file readable by its owner only, since it
 * holds SecureString values in the clear: on a laptop that file is what KMS is in AWS.
 */
export class LocalSsm {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly parameters: Map<string, StoredParameter>,
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  static async open(file: string, region: string, accountId: string): Promise<LocalSsm> {
    const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return "{}";
      throw err;
    });
    const state = StateSchema.parse(JSON.parse(text));
    return new LocalSsm(file, new Map(Object.entries(state)), region, accountId);
  }

  readonly operations: Operations = {
    GetParameter: async (input) => {
      const { Name, WithDecryption } = parse(GetInputSchema, input);
      // GetParameter answers no description; DescribeParameters does.
      const { Description: _description, ...parameter } = this.find(Name);
      return {
        Parameter: {
          ...parameter,
          // Without decryption SSM answers with the ciphertext; a one-way digest stands in.
          Value:
            parameter.Type === "SecureString" && WithDecryption !== true
              ? createHash("sha256").update(parameter.Value).digest("base64")
              : parameter.Value,
          ARN: this.arnOf(parameter.Name),
          DataType: "text",
        },
      };
    },
    PutParameter: async (input) => {
      const { Name, Value, Type, Overwrite, Description } = parse(PutInputSchema, input);
      const existing = this.parameters.get(Name);
      if (existing && Overwrite !== true) {
        throw new AwsServiceError(
          "ParameterAlreadyExists",
          "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
        );
      }
      const parameter: StoredParameter = {
        Name,
        Type,
        Value,
        Version: (existing?.Version ?? 0) + 1,
        LastModifiedDate: Date.now() / 1000,
        ...((Description ?? existing?.Description) === undefined
          ? {}
          : { Description: Description ?? existing?.Description }),
      };
      this.parameters.set(Name, parameter);
      await this.save();
      return { Version: parameter.Version, Tier: "Standard" };
    },
    DescribeParameters: async (input) => {
      const { ParameterFilters = [] } = parse(DescribeInputSchema, input);
      const names = ParameterFilters.flatMap((filter) => filter.Values);
      const chosen = [...this.parameters.values()].filter(
        (p) => names.length === 0 || names.includes(p.Name),
      );
      // Metadata only, as SSM answers it: never a value.
      return {
        Parameters: chosen.map(({ Value: _value, ...metadata }) => ({
          ...metadata,
          ARN: this.arnOf(metadata.Name),
          DataType: "text",
          Tier: "Standard",
        })),
      };
    },
    DeleteParameter: async (input) => {
      const { Name } = parse(DeleteInputSchema, input);
      this.find(Name);
      this.parameters.delete(Name);
      await this.save();
      return {};
    },
  };

  private find(name: string): StoredParameter {
    const parameter = this.parameters.get(name);
    if (!parameter) throw new AwsServiceError("ParameterNotFound", `Parameter ${name} not found.`);
    return parameter;
  }

  private arnOf(name: string): string {
    return `arn:aws:ssm:${this.region}:${this.accountId}:parameter/${name.replace(/^\//, "")}`;
  }

  /** Writes are chained and atomic (temp file, then rename), so a crash never leaves half a file. */
  private async save(): Promise<void> {
    const text = `${JSON.stringify(Object.fromEntries(this.parameters), null, 2)}\n`;
    const temp = `${this.file}.tmp`;
    // A failed write must not stop later ones; its caller has already been told.
    this.writing = this.writing
      .catch(() => undefined)
      .then(async () => {
        await writeFile(temp, text, { mode: 0o600 });
        await rename(temp, this.file);
      });
    await this.writing;
  }
}

function parse<T extends z.ZodMiniType>(schema: T, input: Record<string, unknown>): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new AwsServiceError("ValidationException", problems.join("; "));
  }
  return parsed.data;
}
