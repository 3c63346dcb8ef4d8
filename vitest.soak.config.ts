import { defineConfig } from "vitest/config";

/** `npm run soak`: checks that take minutes of real time, kept out of `npm test`. */
export default defineConfig({
  test: {
    include: ["test/soak/**/*.soak.ts"],
    pool: "forks",
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
