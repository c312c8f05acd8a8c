/** The daemon examples run as users would run them (each against its embedded demo server). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function runExample(
  name: string,
  dir: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
  const env: NodeJS.ProcessEnv = { ...process.env, RADARLIB_EXAMPLE_DIR: dir };
  for (const k of Object.keys(env)) if (k.startsWith('RADARLIB_FTP_')) delete env[k];
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

test('examples/ftp-daemon-example.ts downloads the demo files', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'radarlib-example-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { code, stdout, stderr } = await runExample('ftp-daemon-example.ts', dir);
  assert.equal(code, 0, stderr);
  assert.equal(stdout.match(/^downloaded /gm)?.length, 6, stdout);
  assert.match(stdout, /done: 6 files/);
});

test(
  'examples/daemon-with-processing.ts decodes each volume, records the broken one',
  { timeout: 60_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'radarlib-example-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const { code, stdout, stderr } = await runExample('daemon-with-processing.ts', dir);
    assert.equal(code, 0, stderr);
    assert.equal(stdout.match(/^RMA1 (DBZH|VRAD) .*: 2 sweeps/gm)?.length, 6, stdout);
    assert.match(stdout, /could not process .*_ZDR_.*does not start with "BUFR"/);
  },
);
