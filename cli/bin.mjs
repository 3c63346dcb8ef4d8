#!/usr/bin/env node
// `sluice` once installed (npm link): runs the TypeScript CLI through tsx, a dependency.
import { register } from "tsx/esm/api";

register();
await import("./sluice.ts");
