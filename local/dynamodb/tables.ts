import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import { writeFileAtomic } from "../files";
import type { DynaliteBackend } from "./dynalite-backend";
import { serviceError, validationError } from "./errors";
import { type Item, pick } from "./items";

export type StreamViewType = "KEYS_ONLY" | "NEW_IMAGE" | "OLD_IMAGE" | "NEW_AND_OLD_IMAGES";

const SettingsSchema = z.record(
  z.string(),
  z.object({
    stream: z
      .object({
        enabled: z.boolean(),
        viewType: z.enum(["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]),
        label: z.string(),
      })
      .optional(),
    ttl: z.object({ attributeName: z.string(), enabled: z.boolean() }).optional(),
  }),
);
type TableSettings = z.infer<typeof SettingsSchema>[string];

export const StreamSpecificationSchema = z.object({
  StreamEnabled: z.boolean(),
  StreamViewType: z.enum(["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]).optional(),
});
type StreamSpecification = z.infer<typeof StreamSpecificationSchema>;

export interface KeySchema {
  names: string[];
}

/**
 * What the front knows of each table beyond dynalite: its key attributes (read from dynalite
 * once), and the stream and time-to-live settings dynalite does not keep, held in a file of
 * their own under the DynamoDB state folder.
 */
export class TableCatalog {
  private readonly keys = new Map<string, Promise<KeySchema | undefined>>();

  private constructor(
    private readonly file: string,
    private readonly settings: Record<string, TableSettings>,
    private readonly backend: DynaliteBackend,
    private readonly arnPrefix: string,
  ) {}

  static open(
    file: string,
    backend: DynaliteBackend,
    region: string,
    accountId: string,
  ): TableCatalog {
    const settings = existsSync(file)
      ? SettingsSchema.parse(JSON.parse(readFileSync(file, "utf8")))
      : {};
    return new TableCatalog(
      file,
      settings,
      backend,
      `arn:aws:dynamodb:${region}:${accountId}:table/`,
    );
  }

  /** The table's key attribute names, hash first; undefined when there is no such table. */
  keySchema(table: string): Promise<KeySchema | undefined> {
    let schema = this.keys.get(table);
    if (!schema) {
      schema = this.backend
        .call<{ Table: { KeySchema: { AttributeName: string; KeyType: string }[] } }>(
          "DescribeTable",
          { TableName: table },
        )
        .then(
          ({ Table }) => ({
            names: [...Table.KeySchema]
              .sort((a, b) => (a.KeyType === "HASH" ? -1 : b.KeyType === "HASH" ? 1 : 0))
              .map((k) => k.AttributeName),
          }),
          () => {
            this.keys.delete(table);
            return undefined;
          },
        );
      this.keys.set(table, schema);
    }
    return schema;
  }

  /** The item's key as a lock name, or undefined when the item lacks a key attribute. */
  static lockName(table: string, schema: KeySchema, item: Item): string | undefined {
    const key = pick(item, schema.names);
    if (Object.keys(key).length !== schema.names.length) return undefined;
    return `${table}\u0000${JSON.stringify(schema.names.map((name) => key[name]))}`;
  }

  stream(table: string): { viewType: StreamViewType; arn: string } | undefined {
    const stream = this.settings[table]?.stream;
    return stream?.enabled
      ? { viewType: stream.viewType, arn: this.streamArn(table, stream.label) }
      : undefined;
  }

  streamArn(table: string, label: string): string {
    return `${this.arnPrefix}${table}/stream/${label}`;
  }

  /** Every table's latest stream, enabled or not, with its ARN. */
  streams(): {
    table: string;
    arn: string;
    label: string;
    viewType: StreamViewType;
    enabled: boolean;
  }[] {
    return Object.entries(this.settings).flatMap(([table, s]) =>
      s.stream
        ? [
            {
              table,
              arn: this.streamArn(table, s.stream.label),
              label: s.stream.label,
              viewType: s.stream.viewType,
              enabled: s.stream.enabled,
            },
          ]
        : [],
    );
  }

  ttlAttribute(table: string): string | undefined {
    const ttl = this.settings[table]?.ttl;
    return ttl?.enabled ? ttl.attributeName : undefined;
  }

  ttlTables(): { table: string; attributeName: string }[] {
    return Object.entries(this.settings).flatMap(([table, s]) =>
      s.ttl?.enabled ? [{ table, attributeName: s.ttl.attributeName }] : [],
    );
  }

  /** Whether a write to the table must be seen whole: its stream or its expiry needs the images. */
  observed(table: string): boolean {
    return Boolean(this.stream(table) || this.ttlAttribute(table));
  }

  created(table: string, spec: StreamSpecification | undefined): void {
    this.keys.delete(table);
    delete this.settings[table];
    if (spec?.StreamEnabled) this.setStream(table, spec);
    else this.save();
  }

  deleted(table: string): void {
    this.keys.delete(table);
    delete this.settings[table];
    this.save();
  }

  setStream(table: string, spec: StreamSpecification): void {
    const current = this.settings[table]?.stream;
    if (spec.StreamEnabled) {
      if (!spec.StreamViewType) {
        throw validationError(
          "One or more parameter values were invalid: StreamViewType must be set when StreamEnabled is true",
        );
      }
      if (current?.enabled) throw validationError("Table already has an enabled stream");
      const label = new Date().toISOString().slice(0, -1);
      this.entry(table).stream = { enabled: true, viewType: spec.StreamViewType, label };
    } else {
      if (!current?.enabled) throw validationError("Table does not have an enabled stream");
      current.enabled = false;
    }
    this.save();
  }

  setTtl(table: string, attributeName: string, enabled: boolean): void {
    const current = this.settings[table]?.ttl;
    if (enabled && current?.enabled) throw validationError("TimeToLive is already enabled");
    if (!enabled && !current?.enabled) throw validationError("TimeToLive is already disabled");
    if (!enabled && current?.attributeName !== attributeName) {
      throw validationError("TimeToLive is enabled on a different attribute");
    }
    this.entry(table).ttl = { attributeName, enabled };
    this.save();
  }

  /** A TableDescription with what DynamoDB adds for a stream. */
  describe(table: string, description: Record<string, unknown>): Record<string, unknown> {
    const stream = this.settings[table]?.stream;
    if (!stream) return description;
    return {
      ...description,
      ...(stream.enabled
        ? { StreamSpecification: { StreamEnabled: true, StreamViewType: stream.viewType } }
        : {}),
      LatestStreamLabel: stream.label,
      LatestStreamArn: this.streamArn(table, stream.label),
    };
  }

  async requireTable(table: string): Promise<KeySchema> {
    const schema = await this.keySchema(table);
    if (!schema) throw serviceError("ResourceNotFoundException", "Requested resource not found");
    return schema;
  }

  private entry(table: string): TableSettings {
    this.settings[table] ??= {};
    return this.settings[table];
  }

  private save(): void {
    writeFileAtomic(this.file, JSON.stringify(this.settings, null, 2));
  }
}
