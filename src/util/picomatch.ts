/**
 * picomatch's matcher factory, loaded with `require`. picomatch is CommonJS; an ESM `import` of
 * it makes Node scan its source for named exports at every start of a process that lists files
 * (the mirror, `radarlib get`, the daemon): ~14 ms of CPU with `require`, ~28 with `import`
 * (docs/PERFORMANCE.md "Session 7: start-up"). The same function either way (one require cache).
 *
 * Types still come from `import type ... from 'picomatch'` (erased). Import picomatch from here
 * only: one ESM import of it anywhere in src/ brings the scan back.
 */
import { createRequire } from 'node:module';
import type PicomatchModule from 'picomatch';

export const picomatch = createRequire(import.meta.url)('picomatch') as typeof PicomatchModule;
