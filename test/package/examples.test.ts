/**
 * The README's FTP-client and BUFR examples run as a user runs them from a checkout
 * (`npx tsx examples/…`, each against its embedded default). The daemon examples run in
 * test/daemon/examples.test.ts; install.test.ts runs all of them again from the installed tarball.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function runExample(
  name: string,
  env: NodeJS.ProcessEnv = {},
): { status: number | null; stdout: string; stderr: string } {
  const file = fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('RADARLIB_FTP_')),
  );
  return spawnSync(process.execPath, ['--import', 'tsx', file], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...clean, ...env },
  });
}

test('examples/ftp-client-example.ts lists, downloads 5 of 8 files, checks and lists entries', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'radarlib-example-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = runExample('ftp-client-example.ts', { RADARLIB_EXAMPLE_DIR: dir });
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stdout.match(/^downloaded /gm)?.length, 5, out.stdout);
  assert.match(out.stdout, /^true$/m);
  assert.equal(out.stdout.match(/^\/radar\/data\/RMA1_\S+_DBZH_\S+\.BUFR \d+ /gm)?.length, 8, out.stdout);
  assert.equal(readdirSync(dir).filter((n) => n.endsWith('.BUFR')).length, 6); // 5 + downloadFile of the last
});

test('examples/bufr-example.ts reads a volume and its bufr_to_dict shape', () => {
  const out = runExample('bufr-example.ts');
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /^RMA11 DBZH 2025-10-20T15:28:28\.000Z$/m);
  assert.match(out.stdout, /^0\.5 90 120 10800$/m);
  assert.match(out.stdout, /\[ 'data', 'info' \]/);
});
