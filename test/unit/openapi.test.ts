import { readFile } from "node:fs/promises";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../../local/stack";

// biome-ignore lint/suspicious/noExplicitAny: the documents are read loosely and asserted on
type Json = any;

const openapi: Json = parse(await readFile(path.join(PROJECT_ROOT, "docs/openapi.yaml"), "utf8"));
const serverless: Json = parse(await readFile(path.join(PROJECT_ROOT, "serverless.yml"), "utf8"));

const allRoutes: [string, string][] = Object.values(serverless.functions as Record<string, Json>)
  .flatMap((fn) => fn.events ?? [])
  .filter((e: Json) => e.httpApi)
  .map((e: Json) => [e.httpApi.method.toLowerCase(), e.httpApi.path]);
/** People's routes (`/api/...`, JWT) mirror the IAM route of the same path without `/api`. */
const PEOPLE = /^\/api(\/.*)$/;
const routes = allRoutes.filter(([, route]) => !PEOPLE.test(route));
const peopleRoutes = allRoutes.filter(([, route]) => PEOPLE.test(route));

/** Every `$ref` in the document, with where it is. */
function refs(node: Json, at = "#"): [string, string][] {
  if (typeof node !== "object" || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === "$ref" ? [[at, value as string]] : refs(value, `${at}/${key}`),
  );
}

function resolve(ref: string): Json {
  return ref
    .slice(2)
    .split("/")
    .reduce(
      (node: Json, part) => node?.[part.replaceAll("~1", "/").replaceAll("~0", "~")],
      openapi,
    );
}

describe("docs/openapi.yaml", () => {
  it("is OpenAPI 3.1 with an info block", () => {
    expect(openapi.openapi).toMatch(/^3\.1\.\d+$/);
    expect(openapi.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
  });

  it.each(routes)("documents %s %s", (method, route) => {
    expect(openapi.paths[route]?.[method], `${method.toUpperCase()} ${route}`).toBeDefined();
    expect(Object.keys(openapi.paths[route][method].responses ?? {}).length).toBeGreaterThan(0);
  });

  it("documents no route serverless.yml lacks", () => {
    const methods = ["get", "put", "post", "delete", "patch", "head"];
    const documented = Object.entries(openapi.paths as Record<string, Json>).flatMap(
      ([route, item]) => methods.filter((m) => item[m]).map((m) => `${m} ${route}`),
    );

    expect(documented.sort()).toEqual(routes.map(([m, r]) => `${m} ${r}`).sort());
  });

  it.each(peopleRoutes)("documents %s %s as the IAM route it mirrors", (method, route) => {
    const base = PEOPLE.exec(route)?.[1] ?? "";
    const item = openapi.paths[route];

    expect(item?.$ref, route).toBe(`#/paths/${base.replaceAll("~", "~0").replaceAll("/", "~1")}`);
    expect(resolve(item.$ref)?.[method], `${method} ${base}`).toBeDefined();
    expect(
      allRoutes.some(([m, r]) => m === method && r === base),
      `${method} ${base}`,
    ).toBe(true);
  });

  it("names no people's route serverless.yml lacks", () => {
    const documented = Object.keys(openapi.paths).filter((route) => PEOPLE.test(route));

    expect(documented.sort()).toEqual([...new Set(peopleRoutes.map(([, r]) => r))].sort());
  });

  it("declares every path parameter of each route, and each $ref resolves", () => {
    for (const [method, route] of routes) {
      const item = openapi.paths[route];
      const declared = [...(item.parameters ?? []), ...(item[method].parameters ?? [])]
        .map((p: Json) => (p.$ref ? resolve(p.$ref) : p))
        .filter((p: Json) => p.in === "path")
        .map((p: Json) => p.name);
      const inPath = [...route.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(declared.sort(), `${method} ${route}`).toEqual(inPath.sort());
    }
    for (const [at, ref] of refs(openapi)) expect(resolve(ref), `${at} → ${ref}`).toBeDefined();
  });

  it("has component schemas a JSON Schema 2020-12 validator compiles", () => {
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema({ $id: "openapi", components: openapi.components });
    for (const name of Object.keys(openapi.components.schemas)) {
      expect(() => ajv.getSchema(`openapi#/components/schemas/${name}`), name).not.toThrow();
    }
  });
});
