/**
 * Hostile remote names from a scripted server's crafted LIST: nothing may be written outside the
 * local folder, each unsafe name must be skipped with an error naming it, and a hostile entry
 * must never replace the content of a legitimate file.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsyncFTPClient } from '../../src/ftp/client.js';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import { UnsafePathError } from '../../src/errors.js';
import { unsafeName } from '../helpers/hostile-names.js';
import { memorySampler, recordRow, walkFiles } from './helpers.js';
import { lsLine, startScriptedFtp, type ScriptedFtp } from './scripted-ftp.js';
import { loginTo } from '../helpers/ftp-login.js';

interface Rig {
  base: string;
  local: string;
  /** A folder next to the local one that absolute names point into: it must stay empty. */
  sentinel: string;
  server: ScriptedFtp;
  hostile: { label: string; name: string }[];
  legit: string[];
}

const content = (remotePath: string): Buffer => Buffer.from(`content of ${remotePath}\n`);

async function rig(t: TestContext): Promise<Rig> {
  const base = mkdtempSync(join(tmpdir(), 'radarlib-rel-names-'));
  const local = join(base, 'local');
  const sentinel = join(base, 'sentinel');
  mkdirSync(sentinel);
  const hostile = [
    unsafeName('../x'),
    { label: 'deeper ../', name: 'sub/../../z.BUFR' },
    { label: 'absolute path', name: `${sentinel}/abs.BUFR` },
    { label: '/etc/x', name: '/etc/radarlib-x.BUFR' },
    ...['NUL', 'CR', 'backslash', '4,096 characters'].map(unsafeName),
  ];
  const legit = ['x.BUFR', 'z.BUFR', 'Case.BUFR', 'case.BUFR', 'CASE.BUFR'];
  const names = [...legit, ...hostile.map((h) => h.name)];
  const server = await startScriptedFtp({
    list: () => names.map((n) => lsLine(n, content(`/data/${n}`).length)),
    file: (p) => content(p),
  });
  t.after(async () => {
    await server.stop();
    rmSync(base, { recursive: true, force: true });
  });
  return { base, local, sentinel, server, hostile, legit };
}

/** Files that appeared anywhere but the local folder (the sentinel, the test folder, /etc). */
function outside(r: Rig): string[] {
  const out = readdirSync(r.sentinel).map((f) => join(r.sentinel, f));
  for (const f of readdirSync(r.base)) if (!['local', 'sentinel'].includes(f)) out.push(join(r.base, f));
  if (existsSync('/etc/radarlib-x.BUFR')) out.push('/etc/radarlib-x.BUFR');
  return out;
}

test('hostile names (client): nothing outside the folder; NUL, backslash, long names skipped naming them', async (t) => {
  const r = await rig(t);
  const mem = memorySampler();
  const client = new AsyncFTPClient(loginTo(r.server));
  t.after(() => client.destroy());
  const started = Date.now();
  const entries = await client.listEntries('/data', { pattern: /./ });
  const batch = await client.downloadFiles(entries, r.local, { maxConcurrent: 2 });
  const ms = Date.now() - started;
  const failures = new Map(batch.failures.map((f) => [f.remotePath, f.error]));
  const outcome = (name: string): string => {
    const path = `/data/${name}`;
    const err = failures.get(path) ?? failures.get(entries.find((e) => e.name === name)?.path ?? '');
    if (err instanceof UnsafePathError) return 'skipped (UnsafePathError)';
    if (err !== undefined) return `failed (${(err as { code?: string }).code ?? err.name})`;
    return entries.some((e) => e.name === name) ? 'DOWNLOADED' : 'not listed';
  };
  const out = outside(r);
  const xIntact =
    existsSync(join(r.local, 'x.BUFR')) &&
    readFileSync(join(r.local, 'x.BUFR')).equals(content('/data/x.BUFR'));
  const caseOk = ['Case.BUFR', 'case.BUFR', 'CASE.BUFR'].every(
    (n) => existsSync(join(r.local, n)) && readFileSync(join(r.local, n)).equals(content(`/data/${n}`)),
  );
  recordRow({
    id: 'hostile-names-client',
    scenario: 'Hostile names (client)',
    injected: `crafted LIST: ${r.hostile.map((h) => h.label).join(', ')}; 3 names differing only by case`,
    cases: r.hostile.length + r.legit.length,
    lost: 0,
    duplicated: 0,
    corrupt: xIntact ? 0 : 1,
    outside: out.length,
    maxRssMb: mem.stop(),
    longestHangMs: ms,
    observed: `${r.hostile.map((h) => `${h.label}: ${outcome(h.name)}`).join('; ')}; case variants: ${caseOk ? 'all 3 kept apart' : 'COLLIDED'}; legit x.BUFR ${xIntact ? 'intact' : 'OVERWRITTEN by a hostile entry'}; local files: ${walkFiles(
      r.local,
    )
      .map((f) => f.slice(0, 24))
      .join(', ')}`,
  });
  assert.deepEqual(out, [], 'nothing written outside the local folder');
  for (const label of ['NUL', 'backslash', '4,096 characters']) {
    const h = r.hostile.find((x) => x.label === label)!;
    const err = failures.get(`/data/${h.name}`);
    assert.ok(err instanceof UnsafePathError, `${label}: ${String(err)}`);
    assert.ok(
      err.message.includes(JSON.stringify(`/data/${h.name}`).slice(1, 40)),
      `the error names it: ${err.message.slice(0, 80)}`,
    );
  }
  assert.ok(caseOk, 'names differing only by case are kept apart');
  for (const f of walkFiles(r.local)) assert.ok(!f.includes('/'), `only plain names in the folder: ${f}`);
});

test('hostile names (client): names with "/" or ".." are skipped, never written under their base name', async (t) => {
  const r = await rig(t);
  const client = new AsyncFTPClient(loginTo(r.server));
  t.after(() => client.destroy());
  const entries = await client.listEntries('/data', { pattern: /./ });
  const batch = await client.downloadFiles(entries, r.local, { maxConcurrent: 1 });
  for (const label of ['../x', 'deeper ../', 'absolute path', '/etc/x']) {
    const h = r.hostile.find((x) => x.label === label)!;
    const entry = entries.find((e) => e.name === h.name);
    const err = batch.failures.find((f) => f.remotePath === entry?.path)?.error;
    assert.ok(err instanceof UnsafePathError, `${label} skipped with UnsafePathError, got ${String(err)}`);
  }
  assert.ok(
    readFileSync(join(r.local, 'x.BUFR')).equals(content('/data/x.BUFR')),
    'x.BUFR keeps its own content',
  );
  assert.ok(
    readFileSync(join(r.local, 'z.BUFR')).equals(content('/data/z.BUFR')),
    'z.BUFR keeps its own content',
  );
});

test('hostile names (daemon): nothing outside the folder; each unsafe name filtered or parked naming it', async (t) => {
  const r = await rig(t);
  const mem = memorySampler();
  const ledgerFile = join(r.base, 'local', '.radarlib', 'ledger.sqlite');
  const d = new FTPDaemon({
    ...loginTo(r.server),
    remotePath: '/data',
    localDir: r.local,
    ledger: ledgerFile,
    // Take every name (no pattern, no ignore list): the names themselves are the attack.
    filePattern: '*',
    ignore: [],
    minAge: 0,
    maxAttempts: 2,
    backoff: { initialDelay: 0.01, maxDelay: 0.01, jitter: 0 },
  });
  t.after(() => d.stop());
  const started = Date.now();
  for (let i = 0; i < 4; i++) await d.runOnce();
  const ms = Date.now() - started;
  const rows = await d.ledger!.recent({ limit: 100 });
  const byPath = new Map(rows.map((row) => [row.remotePath, row]));
  const outcome = (name: string): string => {
    const row = [...byPath.values()].find((x) => x.remotePath.endsWith(name));
    if (row === undefined) return 'not taken (filtered)';
    if (row.state === 'failed') return `parked: ${(row.lastError ?? '').split(':')[0] ?? ''}`;
    return `${row.state.toUpperCase()} as ${row.localPath?.slice(r.local.length + 1, r.local.length + 30) ?? '?'}`;
  };
  const out = outside(r);
  const xIntact = readFileSync(join(r.local, 'x.BUFR')).equals(content('/data/x.BUFR'));
  recordRow({
    id: 'hostile-names-daemon',
    scenario: 'Hostile names (daemon)',
    injected: `crafted LIST (filePattern '*', no ignore list): ${r.hostile.map((h) => h.label).join(', ')}; 3 case variants`,
    cases: r.hostile.length + r.legit.length,
    lost: 0,
    duplicated: 0,
    corrupt: xIntact ? 0 : 1,
    outside: out.length,
    maxRssMb: mem.stop(),
    longestHangMs: ms,
    observed: `${r.hostile.map((h) => `${h.label}: ${outcome(h.name)}`).join('; ')}; legit x.BUFR ${xIntact ? 'intact' : 'OVERWRITTEN'}`,
  });
  assert.deepEqual(out, [], 'nothing written outside the local folder');
  for (const label of ['NUL', 'backslash', '4,096 characters']) {
    const h = r.hostile.find((x) => x.label === label)!;
    const row = byPath.get(`/data/${h.name}`);
    if (row === undefined) continue; // filtered out by the listing: never downloaded
    assert.equal(row.state, 'failed', `${label} parked`);
    assert.match(row.lastError ?? '', /RADARLIB_UNSAFE_PATH|UNSAFE|Invalid localLayout/);
  }
  for (const f of walkFiles(r.local)) assert.ok(!f.includes('/'), `only plain names in the folder: ${f}`);
});
