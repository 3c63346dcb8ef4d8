import { defineConfig } from "vitest/config";

/** `npm run soak`: checks that take minutes of real time, kept out of `npm test`. */
export default defineConfig({
  test: {
    // The intake load test runs in npm test too, with fewer deliveries (SLUICE_INTAKE_LOAD_DELIVERIES).
    include: ["test/soak/**/*.soak.ts", "test/integration/webhook-intake-load.test.ts"],
    pool: "forks",
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
