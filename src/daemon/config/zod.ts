/**
 * zod, loaded with `require` when a config is first validated. Loading it costs ~60–70 ms of CPU
 * and building the config's schemas more, in every process that imports the daemon (that is,
 * `import 'radarlib'`) even when it never validates a config. `import()` would be asynchronous
 * and config validation is synchronous, so the package comes through `require`, which gives
 * zod's CommonJS build: the same code as its ESM build, and zod's `instanceof` checks look at a
 * schema's traits, not its class, so they hold across the two builds.
 *
 * Types still come from `import type ... from 'zod'` (erased). Take zod's values from here only:
 * one ESM import of it anywhere in src/ loads it at start again.
 */
import { createRequire } from 'node:module';
import type * as ZodModule from 'zod';

/** zod's `z` namespace (its values: schema builders and classes). */
export type Zod = typeof ZodModule.z;

let zod: Zod | undefined;

/** zod's `z`; the first call loads the package. */
export function loadZod(): Zod {
  zod ??= (createRequire(import.meta.url)('zod') as typeof ZodModule).z;
  return zod;
}
