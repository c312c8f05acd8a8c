#!/usr/bin/env node
// The `radarlib` command: always the compiled CLI in dist/ (built by `npm run build`, and by
// `prepack` for every published tarball). It never loads TypeScript, so an installed package
// needs none of the devDependencies; in a git checkout, `npm run build` first (or run the
// sources directly: `node --import tsx src/cli/main.ts`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(compiled))) {
  console.error(
    'radarlib: dist/ is missing: this is a source checkout; run `npm run build` first ' +
      '(or `node --import tsx src/cli/main.ts ...`)',
  );
  process.exit(1);
}
const { main } = await import(compiled.href);
await main();
