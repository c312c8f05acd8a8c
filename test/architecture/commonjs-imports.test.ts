/**
 * The CommonJS packages src/ uses are loaded with `require`, each in one module: an ESM `import`
 * of one anywhere in src/ brings back Node's scan of its source (and of every module it
 * re-exports) for named exports at every start of the process (basic-ftp ~40 ms of CPU,
 * picomatch ~14, ssh2 ~11, prom-client ~9, pino ~5, commander ~4: docs/PERFORMANCE.md "Session 6:
 * loopback CPU per file", "Session 7: start-up"). Type imports are erased, so they may come
 * from anywhere. And some load only when used: `import 'radarlib'` loads no picomatch, ssh2,
 * yaml or zod (zod is a dual package; it comes through `require` so that config validation,
 * synchronous, can load it on first use).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FTPError as EsmFTPError } from 'basic-ftp';
import { Command as EsmCommand } from 'commander';
import EsmPicomatch from 'picomatch';
import { Registry as EsmRegistry } from 'prom-client';
import { z as EsmZ } from 'zod';
import { FTPError } from '../../src/ftp/basic-ftp.js';
import { Command } from '../../src/cli/commander.js';
import { loadZod } from '../../src/daemon/config/zod.js';
import { loadPicomatch } from '../../src/util/picomatch.js';
import * as prom from '../../src/web/prom-client.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
/** Records every module a child process resolves (ESM) or requires (test/cli/startup.test.ts's). */
const RECORDER = fileURLToPath(new URL('../cli/fixtures/record-imports.mjs', import.meta.url));

/** Each CommonJS package src/ takes values from, and the one file that loads them. */
const LOADED_IN = new Map<string, string>([
  ['basic-ftp', join('ftp', 'basic-ftp.ts')],
  ['commander', join('cli', 'commander.ts')],
  ['pino', join('observe', 'log.ts')],
  ['pino-pretty', join('observe', 'log.ts')],
  ['prom-client', join('web', 'prom-client.ts')],
  ['ssh2', join('sftp', 'ssh2.ts')],
  ['yaml', join('daemon', 'config', 'load.ts')],
  ['cli-progress', join('cli', 'commands', 'ftp.ts')],
  ['picomatch', join('util', 'picomatch.ts')],
  ['zod', join('daemon', 'config', 'zod.ts')],
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** `import x from 'pkg'`, `export ... from 'pkg/sub'`, `import('pkg')`: value imports only. */
function valueImports(text: string): { pkg: string; line: string }[] {
  const found: { pkg: string; line: string }[] = [];
  for (const m of text.matchAll(
    /^(?:import|export)\s+([^;]*?)\s+from\s+'((?:@[^/']+\/)?[^/'.][^/']*)[^']*'/gms,
  )) {
    if (!/^type\s/.test(m[1] ?? '')) found.push({ pkg: m[2] ?? '', line: m[0].replace(/\s+/g, ' ') });
  }
  for (const m of text.matchAll(/\bimport\(\s*'((?:@[^/']+\/)?[^/'.][^/']*)[^']*'\s*\)/g)) {
    found.push({ pkg: m[1] ?? '', line: m[0] });
  }
  return found.filter((f) => !f.pkg.startsWith('node:'));
}

test('src/ imports the CommonJS packages only in their one loader module, with require', () => {
  const offending: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const where = relative(SRC, file);
    for (const { pkg, line } of valueImports(readFileSync(file, 'utf8'))) {
      const home = LOADED_IN.get(pkg);
      if (home !== undefined && home !== where) offending.push(`${where}: ${line}`);
    }
  }
  assert.deepEqual(offending, []);
});

test('the ESM import check sees value imports and lets type imports through', () => {
  const found = valueImports(
    [
      "import { Command, Option } from 'commander';",
      "import type { Logger } from 'pino';",
      "export { x } from 'basic-ftp/dist/transfer.js';",
      "const m = await import('ssh2');",
      "import { z } from './local.js';",
    ].join('\n'),
  );
  assert.deepEqual(
    found.map((f) => f.pkg),
    ['commander', 'basic-ftp', 'ssh2'],
  );
});

test('the required packages are the modules ESM imports load (instanceof holds across both)', () => {
  assert.equal(FTPError, EsmFTPError);
  assert.ok(new FTPError({ code: 550, message: '550 no' }) instanceof EsmFTPError);
  assert.equal(Command, EsmCommand);
  assert.equal(prom.Registry, EsmRegistry);
  assert.equal(loadPicomatch(), EsmPicomatch);
  // zod is dual: `require` gives its CommonJS build, other classes than its ESM build's, but
  // zod's `instanceof` looks at a schema's traits, so the checks in src/daemon/config/env.ts hold.
  const z = loadZod();
  assert.ok(z.string().optional() instanceof EsmZ.ZodOptional);
  assert.ok(z.strictObject({}) instanceof EsmZ.ZodObject);
  assert.ok(!(z.string() instanceof EsmZ.ZodNumber));
});

test('`import "radarlib"` loads neither picomatch, ssh2, yaml nor zod; reading a config file loads yaml and zod', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'radarlib-cjs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'radarlib.yaml');
  const record = join(dir, 'imports.txt');
  writeFileSync(config, 'host: 127.0.0.1\nremotePath: /L2\nlocalDir: ./data\n');
  writeFileSync(record, '');
  // What the process loaded so far: the ESM imports the recorder's resolve hook wrote down, and
  // the require cache (zod, like ssh2 and yaml, comes through `require`; an ESM import of it would
  // only show in the record).
  const script = [
    "import { readFileSync } from 'node:fs';",
    "import { createRequire } from 'node:module';",
    'const { cache } = createRequire(import.meta.url);',
    `const seen = () => readFileSync(${JSON.stringify(record)}, 'utf8') + Object.keys(cache).join('\\n');`,
    "const loaded = () => ['picomatch', 'ssh2', 'yaml', 'zod'].filter((p) => seen().includes(`/node_modules/${p}/`));",
    `const radarlib = await import(${JSON.stringify(join(SRC, 'index.ts'))});`,
    'const afterImport = loaded();',
    `await radarlib.loadDaemonConfig({ file: ${JSON.stringify(config)}, env: {} });`,
    'console.log(JSON.stringify({ afterImport, afterConfig: loaded() }));',
  ].join('\n');
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--import', RECORDER, '--input-type=module', '-e', script],
    { cwd: dirname(SRC), env: { ...process.env, RECORD_IMPORTS: record }, encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(run.status, 0, run.stderr);
  assert.match(readFileSync(record, 'utf8'), /src\/index\.ts/, 'the recorder saw the import');
  assert.deepEqual(JSON.parse(run.stdout.trim().split('\n').at(-1) ?? ''), {
    afterImport: [],
    afterConfig: ['yaml', 'zod'],
  });
});
