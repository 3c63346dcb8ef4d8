import { en } from "zod/locales";
import { config } from "zod/mini";

// zod/mini carries no messages of its own: every issue would read "Invalid input". People read
// Sluice's validation errors, so they get zod's English ones, as zod's full build gives them.
config(en());

/**
 * zod/mini, with English messages. Import it as a namespace (`import * as z`): a bundler then
 * keeps only the parts a handler uses, where `import { z }` would keep all of zod.
 */
export * from "zod/mini";
