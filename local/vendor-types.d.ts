// dynalite and s3rver ship no types; these cover what the local stack calls.
declare module "dynalite" {
  import type { Server } from "node:http";

  interface DynaliteOptions {
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
  }
  export default function dynalite(options?: DynaliteOptions): Server;
}

declare module "s3rver" {
  import { EventEmitter } from "node:events";
  import type { RequestListener } from "node:http";

  interface S3rverOptions {
    address?: string;
    port?: number;
    directory?: string;
    silent?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    resetOnClose?: boolean;
    configureBuckets?: { name: string; configs: (string | Buffer)[] }[];
  }
  export default class S3rver extends EventEmitter {
    constructor(options?: S3rverOptions);
    /** Creates the buckets of `configureBuckets`, as `run` would before it listens. */
    configureBuckets(): Promise<unknown>;
    /** Its request handler (s3rver is a Koa application), for a server of one's own. */
    callback(): RequestListener;
  }
}
