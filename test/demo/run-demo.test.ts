/**
 * `radarlib demo` as a user runs it: a process, its printed lines, the status page it names.
 * Files and a quick-look must show within 30 s; Ctrl-C (SIGINT) must stop everything cleanly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { Command } from 'commander';
import { demoOptionsFromCli, registerDemoCommand, type DemoCliOptions } from '../../src/cli/commands/demo.js';
import { startDemo } from '../../src/demo/run-demo.js';
import type { StatusSnapshot } from '../../src/web/server.js';
import { scaled } from '../helpers/wait.js';

const FIXTURE_CLI = fileURLToPath(new URL('./fixtures/demo-cli.ts', import.meta.url));
const MAIN_CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** The real `radarlib` entry once it registers `demo`, else a stand-in with only that command. */
async function demoEntry(): Promise<string> {
  try {
    const { buildProgram } = (await import('../../src/cli/main.js')) as { buildProgram: () => Command };
    if (buildProgram().commands.some((c) => c.name() === 'demo')) return MAIN_CLI;
  } catch {
    /* main.ts is being edited: use the stand-in */
  }
  return FIXTURE_CLI;
}
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** 30 s on a quiet machine, stretched under load (the start-up of tsx and the first decode). */
const WITHIN_MS = scaled(30_000);
/** The demo's own end, safely after the wait: the SIGINT must come first, not the duration. */
const DURATION_S = Math.ceil((2 * WITHIN_MS) / 1000);

test(
  'radarlib demo --duration: files and a quick-look within 30 s, then SIGINT stops it cleanly',
  { timeout: scaled(30_000) + 2 * WITHIN_MS },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'radarlib-demo-cli-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        await demoEntry(),
        'demo',
        '--radars',
        '2',
        '--cadence',
        '2',
        '--duration',
        String(DURATION_S),
        '--http',
        '127.0.0.1:0',
        '--dir',
        dir,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    const deadline = Date.now() + WITHIN_MS;
    const within = `within ${WITHIN_MS / 1000} s`;
    const wait = (): Promise<void> => new Promise((r) => setTimeout(r, 250));
    let url: string | null = null;
    for (let i = 0; i < 1_000 && url === null && Date.now() < deadline; i++) {
      url = /status page\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1] ?? null;
      if (url === null) await wait();
    }
    assert.ok(url !== null, `no status page URL printed ${within}\nstdout:\n${out}\nstderr:\n${err}`);

    let quicklook: string | null = null;
    let snap: StatusSnapshot | null = null;
    for (let i = 0; i < 1_000 && quicklook === null && Date.now() < deadline; i++) {
      snap = (await (await fetch(`${url}api/status`)).json()) as StatusSnapshot;
      quicklook =
        snap.sources[0]?.radars.find((r) => r.quicklooks['DBZH'] !== undefined)?.quicklooks['DBZH']?.url ??
        null;
      if (quicklook === null) await wait();
    }
    assert.ok(quicklook !== null, `no quick-look ${within}: ${JSON.stringify(snap)}`);
    assert.ok((snap?.recentDownloads.length ?? 0) > 0);
    // The decode callback runs after the download is recorded: its line may come a moment later.
    for (let i = 0; i < 1_000 && !/decoded RMA\d (DBZH|VRAD|ZDR)/.test(out) && Date.now() < deadline; i++)
      await wait();
    assert.match(out, /decoded RMA\d (DBZH|VRAD|ZDR)/);
    const png = await fetch(new URL(quicklook, url));
    assert.equal(png.status, 200);
    const img = PNG.sync.read(Buffer.from(await png.arrayBuffer()));
    assert.ok(img.width > 400 && img.height > 400);

    child.kill('SIGINT');
    assert.equal(await exited, 0, `exit status after SIGINT\nstderr:\n${err}`);
    assert.match(out, /stopping/);
    assert.match(out, /stopped: \d+ file\(s\) downloaded and decoded/);
    // The FTP password is in the file the demo names, and printed nowhere.
    const password = readFileSync(join(dir, 'ftp-password'), 'utf8').trim();
    assert.ok(password.length >= 12);
    assert.ok(!out.includes(password) && !err.includes(password));
    assert.ok(existsSync(join(dir, 'ledger.sqlite')));
  },
);

test(
  'startDemo with a duration stops by itself and closes the status server',
  { timeout: 30_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'radarlib-demo-run-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const lines: string[] = [];
    const demo = await startDemo({
      radars: 1,
      cadence: 1,
      duration: 4,
      http: '127.0.0.1:0',
      dir,
      pollInterval: 0.3,
      print: (l) => lines.push(l),
    });
    const { url } = demo.status;
    await demo.done;
    assert.ok(demo.network.publishedCount > 0);
    assert.match(lines.join('\n'), /stopped:/);
    await assert.rejects(fetch(`${url}healthz`), 'the status server is closed');
    await demo.stop(); // idempotent
  },
);

test('demo --help explains the knobs; bad values are refused', async () => {
  const program = new Command('radarlib').exitOverride();
  let help = '';
  program.configureOutput({ writeOut: (s) => (help += s), writeErr: (s) => (help += s) });
  registerDemoCommand(program);
  await assert.rejects(program.parseAsync(['node', 'radarlib', 'demo', '--help']));
  for (const knob of ['--radars', '--cadence', '--port', '--http', '--dir', '--duration'])
    assert.match(help, new RegExp(knob));
  await assert.rejects(program.parseAsync(['node', 'radarlib', 'demo', '--radars', '0']), /radars/);
  await assert.rejects(program.parseAsync(['node', 'radarlib', 'demo', '--cadence', '0.2']), /cadence/);
  await assert.rejects(program.parseAsync(['node', 'radarlib', 'demo', '--http', 'nope']), /http/);
  const opts: DemoCliOptions = { radars: 2, cadence: 3, port: 0, logLevel: 'warn', duration: 5 };
  assert.deepEqual(demoOptionsFromCli(opts), { radars: 2, cadence: 3, ftpPort: 0, duration: 5 });
});
