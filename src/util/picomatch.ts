/**
 * picomatch, loaded with `require` when the first glob is compiled. picomatch is CommonJS; an
 * ESM `import` of it makes Node scan its source for named exports at every start (~14 ms of CPU
 * with `require`, ~28 with `import`: docs/PERFORMANCE.md "Session 7: start-up"), and a process
 * that compiles no glob (`radarlib get` of one file, `import 'radarlib'`) needs none of it. The
 * same function either way (one require cache).
 *
 * Types still come from `import type ... from 'picomatch'` (erased). Take picomatch from here
 * only: one ESM import of it anywhere in src/ loads it, and the scan, at start again.
 */
import { createRequire } from 'node:module';
import type Picomatch from 'picomatch';

let picomatch: typeof Picomatch | undefined;

/** picomatch's matcher factory; the first call loads the package. */
export function loadPicomatch(): typeof Picomatch {
  picomatch ??= createRequire(import.meta.url)('picomatch') as typeof Picomatch;
  return picomatch;
}
