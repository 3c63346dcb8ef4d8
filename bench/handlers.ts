import { execFile } from "node:child_process";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { parse as parseYaml } from "yaml";
import * as z from "../domain/zod";
import { loadServerlessConfig } from "../local/serverless-config";
import { PROJECT_ROOT } from "../local/stack";

/** The esbuild settings of serverless.yml's custom.esbuild, as serverless-esbuild uses them. */
const EsbuildSettingsSchema = z.object({
  custom: z.object({
    esbuild: z.object({
      minify: z._default(z.boolean(), false),
      sourcemap: z.optional(z.union([z.boolean(), z.enum(["linked", "external", "inline"])])),
      target: z.string(),
      platform: z.enum(["node"]),
      format: z.enum(["esm", "cjs"]),
      outputFileExtension: z._default(z.string(), ".js"),
      exclude: z._default(z.array(z.string()), []),
      banner: z.optional(z.record(z.string(), z.string())),
    }),
  }),
});

export interface HandlerFigures {
  name: string;
  bytes: number;
  /** The SDK packages the bundle leaves to the runtime and imports. */
  sdk: string[];
  initMs: number;
  sdkInitMs: number;
}

/**
 * Bundles every function of serverless.yml as serverless-esbuild would, and times, in fresh
 * node processes, importing the bundle and importing only the SDK packages it uses. The
 * bundles are written under node_modules so that their SDK imports resolve as in Lambda,
 * where the runtime provides them.
 */
export async function measureHandlers(samples = 5): Promise<HandlerFigures[]> {
  const config = await loadServerlessConfig(PROJECT_ROOT);
  const { esbuild } = EsbuildSettingsSchema.parse(
    parseYaml(await readFile(path.join(PROJECT_ROOT, "serverless.yml"), "utf8")),
  ).custom;
  const outDir = path.join(PROJECT_ROOT, "node_modules/.cache/sluice-bench");
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const figures: HandlerFigures[] = [];
  try {
    for (const fn of config.functions.values()) {
      const outfile = path.join(outDir, `${fn.name}${esbuild.outputFileExtension}`);
      const result = await build({
        entryPoints: [fn.modulePath],
        outfile,
        bundle: true,
        minify: esbuild.minify,
        ...(esbuild.sourcemap === undefined ? {} : { sourcemap: esbuild.sourcemap }),
        target: esbuild.target,
        platform: esbuild.platform,
        format: esbuild.format,
        external: esbuild.exclude,
        ...(esbuild.banner ? { banner: esbuild.banner } : {}),
        metafile: true,
        logLevel: "error",
      });
      const sdk = sdkImports(result.metafile);
      const sdkFile = path.join(outDir, `${fn.name}.sdk.mjs`);
      await writeFile(sdkFile, sdk.map((p) => `import ${JSON.stringify(p)};\n`).join(""));
      figures.push({
        name: fn.name,
        bytes: (await stat(outfile)).size,
        sdk,
        initMs: await medianImportMs(outfile, samples),
        sdkInitMs: await medianImportMs(sdkFile, samples),
      });
    }
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
  return figures;
}

function sdkImports(metafile: { outputs: Record<string, { imports: ImportRecord[] }> }): string[] {
  const packages = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const { path: p, external } of output.imports) {
      const name = /^@aws-sdk\/[^/]+/.exec(p)?.[0];
      if (external && name) packages.add(name);
    }
  }
  return [...packages].sort();
}

interface ImportRecord {
  path: string;
  external?: boolean;
}

/** Milliseconds to import the module in a new node process, the median of `samples`. */
async function medianImportMs(file: string, samples: number): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`;
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const { stdout } = await promisify(execFile)(process.execPath, [
      "--input-type=module",
      "--eval",
      script,
    ]);
    times.push(Number(stdout.trim()));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

export function printHandlers(figures: HandlerFigures[]): void {
  console.log("handler                 minified   init   SDK alone  SDK packages");
  for (const f of figures) {
    console.log(
      `${f.name.padEnd(22)} ${`${(f.bytes / 1024).toFixed(0)} KB`.padStart(9)} ${`${f.initMs.toFixed(0)} ms`.padStart(7)} ${`${f.sdkInitMs.toFixed(0)} ms`.padStart(10)}  ${f.sdk.map((p) => p.slice("@aws-sdk/".length)).join(", ") || "none"}`,
    );
  }
}
