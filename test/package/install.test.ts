/**
 * `npm install radarlib` as a user does it: pack the tarball (prepack builds dist/), install it
 * into a fresh project with `--omit=dev`, then use only what was installed: the CLI and each
 * subcommand's help, `radarlib demo` with its status page, `radarlib decode`, every entry point
 * from an ESM script talking to a real FTP server, and the examples typechecked by a strict
 * TypeScript consumer, compiled and run. Pack and install happen once per run.
 *
 * The install is `--prefer-offline`: after `npm ci` every package is in npm's cache, so it needs
 * no network in CI; a machine whose cache lacks a package fetches it from the registry, and one
 * with neither skips (saying so). It runs with `--ignore-scripts` and takes the SQLite binding
 * this checkout's `npm ci` built (same version, same Node): compiling it a second time would cost
 * minutes where prebuilt binaries cannot be downloaded. Its own check is the daemon cycle below,
 * which opens a SQLite ledger through the installed package.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, '../shared/fixtures/bufr');
const NPM_CLI = process.env['npm_execpath'];
const COMMANDS = ['demo', 'daemon', 'status', 'retry-failed', 'ls', 'get', 'decode'];

interface Installed {
  project: string;
  bin: string;
  tarballBytes: number;
  installSeconds: number;
  packages: number;
}
let installed: Installed | null = null;
let skipReason: string | null = null;
let work = '';

function npm(args: string[], cwd: string, timeout = 300_000): SpawnSyncReturns<string> {
  // Inside `npm test`, npm_execpath is npm's own CLI; outside (node scripts/run-tests.mjs) `npm`.
  const [cmd, pre] = NPM_CLI?.endsWith('.js') ? [process.execPath, [NPM_CLI]] : ['npm', []];
  return spawnSync(cmd, [...pre, ...args], {
    cwd,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
}

function versionOf(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'radarlib-package-'));
  const packed = npm(['pack', '--json', '--pack-destination', work], ROOT, 600_000);
  assert.equal(packed.status, 0, `npm pack failed:\n${packed.stderr}`);
  const [{ filename }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as [
    { filename: string },
  ];
  const tarball = join(work, filename);
  const project = join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  const t0 = performance.now();
  const install = npm(
    ['install', '--prefer-offline', '--ignore-scripts', '--omit=dev', '--no-audit', '--no-fund', tarball],
    project,
  );
  const installSeconds = (performance.now() - t0) / 1000;
  if (install.status !== 0) {
    if (/ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT/.test(install.stderr)) {
      skipReason = `the packages radarlib depends on are neither in npm's cache nor reachable: ${install.stderr.split('\n')[0]}`;
      return;
    }
    assert.fail(`npm install of the tarball failed:\n${install.stderr}`);
  }
  const sqlite = join(project, 'node_modules/better-sqlite3');
  const built = join(ROOT, 'node_modules/better-sqlite3/build');
  if (existsSync(built) && versionOf(sqlite) === versionOf(join(ROOT, 'node_modules/better-sqlite3'))) {
    cpSync(built, join(sqlite, 'build'), { recursive: true });
  } else {
    const rebuilt = npm(['rebuild', 'better-sqlite3'], project, 900_000);
    assert.equal(rebuilt.status, 0, rebuilt.stderr);
  }
  const lock = JSON.parse(readFileSync(join(project, 'node_modules/.package-lock.json'), 'utf8')) as {
    packages: Record<string, unknown>;
  };
  installed = {
    project,
    bin: join(project, 'node_modules/.bin/radarlib'),
    tarballBytes: statSync(tarball).size,
    installSeconds,
    packages: Object.keys(lock.packages).length,
  };
});

after(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

function ready(t: { skip(m: string): void }): Installed | null {
  if (installed === null) t.skip(skipReason ?? 'the tarball was not installed');
  return installed;
}

function run(bin: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(bin, args, {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
}

test('the tarball installs with --omit=dev: size, time and packages', (t) => {
  const it = ready(t);
  if (it === null) return;
  t.diagnostic(
    `tarball ${(it.tarballBytes / 1024).toFixed(0)} KiB; install ${it.installSeconds.toFixed(1)} s; ${it.packages} packages`,
  );
  const pkg = join(it.project, 'node_modules/radarlib');
  for (const path of [
    'dist/index.js',
    'dist/index.d.ts',
    'dist/cli/main.js',
    'docs/DAEMON.md',
    'examples/ftp-client-example.ts',
    'README.md',
    'LICENSE',
  ])
    assert.ok(existsSync(join(pkg, path)), `the package lacks ${path}`);
  for (const unshipped of ['src', 'test', 'docs/api', 'dist/observe/metrics.js'])
    assert.ok(!existsSync(join(pkg, unshipped)), `${unshipped} is in the package`);
  for (const dev of ['tsx', 'typescript', 'eslint'])
    assert.ok(!existsSync(join(it.project, 'node_modules', dev)), `${dev} (a devDependency) was installed`);
  // Every relative link of the README resolves inside the package.
  const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
  const links = [...readme.matchAll(/\]\(((?:docs|examples|deploy)\/[^)#\s]+)/g)].map((m) => m[1] as string);
  assert.ok(links.length >= 10, `expected the README's links, found ${links.length}`);
  for (const link of links)
    assert.ok(existsSync(join(pkg, link)), `README links ${link}, not in the package`);
});

test('radarlib --version, --help and every subcommand --help run from the installed bin', (t) => {
  const it = ready(t);
  if (it === null) return;
  const version = run(it.bin, ['--version'], it.project);
  assert.equal(version.stdout.trim(), versionOf(join(it.project, 'node_modules/radarlib')));
  const help = run(it.bin, ['--help'], it.project);
  assert.equal(help.status, 0, help.stderr);
  for (const cmd of COMMANDS) {
    assert.match(help.stdout, new RegExp(`^  ${cmd}\\b`, 'm'), `--help does not list ${cmd}`);
    const sub = run(it.bin, [cmd, '--help'], it.project);
    assert.equal(sub.status, 0, `${cmd} --help: ${sub.stderr}`);
    assert.match(sub.stdout, new RegExp(`^Usage: radarlib ${cmd} `, 'm'));
  }
});

test(
  'radarlib demo serves the status page, /healthz, /metrics and a quick-look PNG',
  { timeout: 90_000 },
  async (t) => {
    const it = ready(t);
    if (it === null) return;
    const child = spawn(
      it.bin,
      ['demo', '--radars', '1', '--cadence', '1', '--http', '127.0.0.1:0', '--dir', join(work, 'demo')],
      { cwd: it.project, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60_000;
      let url: string | undefined;
      while (url === undefined && Date.now() < deadline) {
        url = /status page\s+(http:\S+)/.exec(stdout)?.[1];
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(url !== undefined, `no status page URL printed:\n${stdout}\n${stderr}`);
      assert.match(await (await fetch(url)).text(), /<html/i);
      assert.equal((await fetch(`${url}healthz`)).status, 200);
      let png: Response | undefined;
      while (Date.now() < deadline) {
        png = await fetch(`${url}api/quicklook.png?source=demo-network&radar=RMA1&field=DBZH`);
        if (png.status === 200) break;
        await png.arrayBuffer();
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal(png?.status, 200, `no quick-look within 60 s:\n${stdout}\n${stderr}`);
      const bytes = Buffer.from(await png.arrayBuffer());
      assert.deepEqual(
        [...bytes.subarray(0, 8)],
        [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
        'not a PNG',
      );
      const metrics = await (await fetch(`${url}metrics`)).text();
      assert.match(metrics, /^radarlib_files_downloaded_total\{source="demo-network"\} [1-9]/m);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /stopped: \d+ file\(s\) downloaded and decoded/);
  },
);

test('radarlib decode prints the sweeps of a real radar volume', (t) => {
  const it = ready(t);
  if (it === null) return;
  if (!existsSync(FIXTURES)) return t.skip(`no ${FIXTURES} (the shared fixtures are not on this machine)`);
  const file = readdirSync(FIXTURES).find((f) => f.endsWith('.BUFR'));
  assert.ok(file !== undefined, `no .BUFR file in ${FIXTURES}`);
  const out = run(it.bin, ['decode', join(FIXTURES, file), '--json'], it.project);
  assert.equal(out.status, 0, out.stderr);
  const radar = file.split('_')[0] as string;
  assert.ok(out.stdout.includes(radar), `decode output does not name ${radar}:\n${out.stdout.slice(0, 500)}`);
});

test('every entry point imports from ESM and works against a real FTP server', { timeout: 60_000 }, (t) => {
  const it = ready(t);
  if (it === null) return;
  const script = join(it.project, 'check-entry-points.mjs');
  cpSync(fileURLToPath(new URL('./consumer/check-entry-points.mjs', import.meta.url)), script);
  const out = spawnSync(process.execPath, [script], { cwd: it.project, encoding: 'utf8', timeout: 50_000 });
  assert.equal(out.status, 0, out.stderr);
  const report = JSON.parse(out.stdout.trim().split('\n').at(-1) as string) as {
    afterFtpAndBufr: { heavy: string[]; native: number };
    afterRoot: { heavy: string[]; native: number };
    afterLedger: { heavy: string[]; native: number };
    exports: Record<string, number>;
    client: { listed: string[]; sameBytes: boolean };
    daemon: {
      seen: { remotePath: string; sweeps: number; radar: string }[];
      healthz: number;
      downloadedMetric: boolean;
    };
  };
  assert.deepEqual(
    report.afterFtpAndBufr,
    { heavy: [], native: 0 },
    'radarlib/ftp or radarlib/bufr loaded heavy code',
  );
  assert.deepEqual(
    report.afterRoot,
    { heavy: [], native: 0 },
    'radarlib loaded the web stack, native code, ssh2, yaml, zod or picomatch',
  );
  for (const [entry, count] of Object.entries(report.exports))
    assert.ok(count > 0, `${entry} exports nothing`);
  assert.equal(report.client.listed.length, 1);
  assert.ok(report.client.sameBytes, 'the client download differs from the served file');
  assert.equal(report.daemon.seen.length, 1, JSON.stringify(report.daemon));
  assert.match(report.daemon.seen[0]?.remotePath ?? '', /^\/data\/RMA1_\w+\.BUFR$/);
  assert.equal(report.daemon.seen[0]?.sweeps, 2);
  assert.equal(report.daemon.seen[0]?.radar, 'RMA1');
  assert.equal(report.daemon.healthz, 200);
  assert.ok(report.daemon.downloadedMetric, 'radarlib_files_downloaded_total is not 1');
  assert.ok(
    report.afterLedger.heavy.includes('better-sqlite3') && report.afterLedger.native > 0,
    'the SQLite ledger did not load',
  );
});

test(
  'a strict TypeScript consumer (module nodenext) compiles the examples, which then run',
  { timeout: 240_000 },
  (t) => {
    const it = ready(t);
    if (it === null) return;
    const ts = versionOf(join(ROOT, 'node_modules/typescript'));
    const types = versionOf(join(ROOT, 'node_modules/@types/node'));
    const add = npm(
      [
        'install',
        '--prefer-offline',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--save-dev',
        `typescript@${ts}`,
        `@types/node@${types}`,
      ],
      it.project,
    );
    assert.equal(add.status, 0, add.stderr);
    cpSync(join(ROOT, 'examples'), join(it.project, 'examples'), { recursive: true });
    writeFileSync(
      join(it.project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023', 'ESNext.Disposable'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          verbatimModuleSyntax: true,
          skipLibCheck: false,
          types: ['node'],
          outDir: 'out',
        },
        include: ['examples'],
      }),
    );
    const tsc = join(it.project, 'node_modules/typescript/bin/tsc');
    // One compile: it typechecks (any error fails it) and emits the JavaScript run below.
    const build = spawnSync(process.execPath, [tsc, '-p', '.'], {
      cwd: it.project,
      encoding: 'utf8',
      timeout: 180_000,
    });
    assert.equal(build.status, 0, `tsc -p . (strict, nodenext):\n${build.stdout}${build.stderr}`);
    for (const [example, expected] of [
      ['ftp-client-example.js', /^downloaded .*\.BUFR$/m],
      ['bufr-example.js', /^RMA11 DBZH 2025-10-20T15:28:28\.000Z$/m],
      ['ftp-daemon-example.js', /^done: 6 files in /m],
    ] as const) {
      const out: SpawnSyncReturns<string> = spawnSync(process.execPath, [join(it.project, 'out', example)], {
        cwd: it.project,
        encoding: 'utf8',
        timeout: 30_000,
        env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RADARLIB_FTP_'))),
      });
      assert.equal(out.status, 0, `${example}: ${out.stderr}`);
      assert.match(out.stdout, expected);
    }
  },
);
