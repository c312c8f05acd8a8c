/**
 * Slow and huge servers: a listing of 200,000 entries and one that never ends (memory must stay
 * bounded), and a server that sends 1 byte per second in its greeting, its replies or its data
 * (a timeout must fire, with an error that says which one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsyncFTPClient } from '../../src/ftp/client.js';
import { FtpTimeoutError, RadarlibError } from '../../src/errors.js';
import type { FtpTimeouts } from '../../src/ftp/types.js';
import { count, memorySampler, recordRow } from './helpers.js';
import { lsLine, startScriptedFtp, type ScriptedFtpOptions } from './scripted-ftp.js';
import { loginTo } from '../helpers/ftp-login.js';

const ENTRIES = 200_000;
/** Tests that wait for a timeout give up after this (the wait itself is what is measured). */
const GIVE_UP_MS = count(8_000, 30_000);
const TIMEOUTS: FtpTimeouts = { connectMs: 2000, commandMs: 2000, dataStallMs: 2000 };

async function withServer<T>(
  options: ScriptedFtpOptions,
  work: (client: AsyncFTPClient) => Promise<T>,
  timeouts: FtpTimeouts = TIMEOUTS,
): Promise<T> {
  const server = await startScriptedFtp(options);
  const client = new AsyncFTPClient({
    ...loginTo(server),
    timeouts,
  });
  try {
    return await work(client);
  } finally {
    client.destroy();
    await server.stop();
  }
}

function* hugeListing(n: number): Generator<string> {
  for (let i = 0; i < n; i++)
    yield lsLine(`RMA1_0315_01_DBZH_${String(i).padStart(7, '0')}.BUFR`, 100_000 + i);
}

function* endlessListing(): Generator<string> {
  // Bounded here only so a broken client cannot keep the test busy forever (1 GB).
  for (let i = 0; i < 12_000_000; i++) yield lsLine(`E_${i}.BUFR`, i);
}

test(`a listing of ${ENTRIES} entries: all listed, memory bounded`, { timeout: 120_000 }, async () => {
  const rounds = count(2, 5);
  const base = process.memoryUsage().rss;
  const mem = memorySampler();
  let longest = 0;
  let got = 0;
  await withServer({ list: () => hugeListing(ENTRIES) }, async (client) => {
    for (let i = 0; i < rounds; i++) {
      const s = Date.now();
      const entries = await client.listEntries('/', { pattern: '*.BUFR' });
      longest = Math.max(longest, Date.now() - s);
      got = entries.length;
    }
  });
  const peak = mem.stop();
  const growthMb = Math.round(peak - base / 1048576);
  recordRow({
    id: 'huge-listing',
    scenario: 'Huge listing',
    injected: `LIST of ${ENTRIES} entries (~16 MB of text), ${rounds} times`,
    cases: ENTRIES,
    lost: ENTRIES - got,
    duplicated: 0,
    corrupt: 0,
    maxRssMb: peak,
    longestHangMs: longest,
    observed: `${got} entries listed; RSS peak ${peak} MB (+${growthMb} MB over the test's start)`,
  });
  assert.equal(got, ENTRIES);
  // ~16 MB of listing text held as a string, then 200,000 parsed entries: a few hundred MB at
  // most, never proportional to the number of rounds.
  assert.ok(growthMb < 800, `RSS grew by ${growthMb} MB`);
});

test(
  'a listing that never ends: stopped at the listing size limit, memory bounded',
  { timeout: 120_000 },
  async () => {
    const base = process.memoryUsage().rss;
    const mem = memorySampler();
    const started = Date.now();
    const err = await withServer({ list: () => endlessListing() }, (client) =>
      client.listDir('/').then(
        () => null,
        (e: unknown) => e as Error,
      ),
    );
    const ms = Date.now() - started;
    const peak = mem.stop();
    recordRow({
      id: 'endless-listing',
      scenario: 'Endless listing',
      injected: 'LIST that streams lines forever',
      cases: 1,
      lost: 0,
      duplicated: 0,
      corrupt: 0,
      maxRssMb: peak,
      longestHangMs: ms,
      observed: `${err === null ? 'no error!' : `${(err as { code?: string }).code ?? err.name}: ${err.message.slice(0, 120)}`}; RSS +${Math.round(peak - base / 1048576)} MB`,
    });
    assert.ok(err instanceof RadarlibError, `a typed error, got ${String(err)}`);
    assert.ok(peak - base / 1048576 < 1200, 'memory bounded by the listing limit');
  },
);

interface SlowCase {
  id: string;
  what: string;
  options: ScriptedFtpOptions;
  /** Timeouts for this case. @default TIMEOUTS */
  timeouts?: FtpTimeouts;
  run: (client: AsyncFTPClient, signal: AbortSignal) => Promise<unknown>;
  phase: FtpTimeoutError['phase'];
}

const FILE = Buffer.alloc(600, 7);
const SLOW: SlowCase[] = [
  {
    id: 'slow-greeting',
    what: 'greeting sent at 1 byte/s',
    options: { greetingByteMs: 1000 },
    run: (c, signal) => c.connect({ signal }),
    phase: 'connect',
  },
  {
    id: 'slow-replies',
    what: 'replies to EPSV/PASV/LIST sent at 1 byte/s',
    options: { replyByteMs: 1000, slowReplyTo: ['EPSV', 'PASV', 'LIST'], list: () => [lsLine('a.BUFR', 1)] },
    run: (c, signal) => c.listDir('/', { signal }),
    phase: 'command',
  },
  {
    id: 'silent-reply',
    what: 'the reply to EPSV/PASV stops after 1 byte',
    options: { replyByteMs: 600_000, slowReplyTo: ['EPSV', 'PASV'] },
    run: (c, signal) => c.listDir('/', { signal }),
    phase: 'command',
  },
  {
    id: 'silent-data',
    what: 'file data stops after 1 byte (dataStallMs 2 s, commandMs 60 s)',
    options: { dataByteMs: 600_000, file: () => FILE },
    timeouts: { connectMs: 2000, commandMs: 60_000, dataStallMs: 2000 },
    run: (c, signal) =>
      c.downloadFile({ path: '/x.BUFR', name: 'x.BUFR', size: FILE.length, modifiedAt: null }, tmpLocal(), {
        signal,
      }),
    phase: 'data',
  },
  {
    id: 'slow-data',
    what: 'file data sent at 1 byte/s',
    options: { dataByteMs: 1000, file: () => FILE },
    run: (c, signal) =>
      c.downloadFile({ path: '/x.BUFR', name: 'x.BUFR', size: FILE.length, modifiedAt: null }, tmpLocal(), {
        signal,
      }),
    phase: 'data',
  },
];

const locals: string[] = [];
function tmpLocal(): string {
  const dir = mkdtempSync(join(tmpdir(), 'radarlib-rel-slow-'));
  locals.push(dir);
  return dir;
}

for (const c of SLOW) {
  test(
    `1 byte/s: ${c.what} → a ${c.phase} timeout that says so`,
    { timeout: GIVE_UP_MS + 30_000 },
    async (t) => {
      t.after(() => {
        for (const d of locals.splice(0)) rmSync(d, { recursive: true, force: true });
      });
      // AbortSignal.timeout and socket timeouts do not keep the event loop alive: this does.
      const keepAlive = setInterval(() => undefined, 1000);
      t.after(() => clearInterval(keepAlive));
      let started = Date.now();
      const err = await withServer(
        c.options,
        async (client) => {
          // Log in first (the greeting case excepted), so only the slow part is measured.
          if (c.phase !== 'connect') await client.connect();
          started = Date.now();
          return c.run(client, AbortSignal.timeout(GIVE_UP_MS)).then(
            () => null,
            (e: unknown) => e as Error,
          );
        },
        c.timeouts,
      );
      const ms = Date.now() - started;
      const ok = err instanceof FtpTimeoutError && err.phase === c.phase && err.timeoutMs > 0;
      recordRow({
        id: c.id,
        scenario: `1 byte/s: ${c.what}`,
        injected: `${c.what}; timeouts connect/command/dataStall ${(c.timeouts ?? TIMEOUTS).connectMs}/${(c.timeouts ?? TIMEOUTS).commandMs}/${(c.timeouts ?? TIMEOUTS).dataStallMs} ms; test gives up after ${GIVE_UP_MS} ms`,
        cases: 1,
        lost: 0,
        duplicated: 0,
        corrupt: 0,
        maxRssMb: Math.round(process.memoryUsage().rss / 104857.6) / 10,
        longestHangMs: ms,
        observed: `${ok ? 'OK' : 'NOT OK'}: ${err === null ? 'no error' : `${(err as { code?: string }).code ?? err.name}: ${err.message}`}`,
      });
      assert.ok(err instanceof FtpTimeoutError, `expected a timeout, got ${String(err)} after ${ms} ms`);
      assert.equal(err.phase, c.phase);
      assert.match(err.message, new RegExp(`${c.phase} timeout`));
      assert.ok(err.timeoutMs > 0, `the message names the limit: ${err.message}`);
    },
  );
}
