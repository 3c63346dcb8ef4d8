import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    pool: "forks",
    // Most files wait on processes, timers and sockets more than they compute, so two at a time
    // finish sooner than one even on two cores, where vitest's default (a core less) runs one.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // Unit tests start no stack and keep no state between files, so they share their
          // workers' modules instead of loading the SDK again for each file.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: "stack",
          include: ["test/**/*.test.ts"],
          // Handlers keep their SDK clients, pointed at one stack's ports, for the life of a
          // process: each of these files gets a process of its own.
          exclude: [...configDefaults.exclude, "test/unit/**"],
        },
      },
    ],
  },
});
