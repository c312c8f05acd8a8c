/**
 * Socket flood against the status page of a downloading daemon with a low descriptor limit:
 * `radarlib daemon` in a child process under `ulimit -n 256`, the FTP server in this process
 * publishing files while 300 sockets (from three loopback addresses) send request headers and
 * never finish them, reopened as the server closes them. Before the connection caps, this made
 * the daemon hit EMFILE (listings, local writes) and park files as failed. Now: every file is
 * downloaded once, intact, and no EMFILE appears anywhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { openLedger } from '../../src/ledger/open.js';
import { startEmbeddedFtp } from '../helpers/embedded-ftp.js';
import { sha256File } from '../helpers/hash.js';
import { sleep } from '../helpers/wait.js';
import { count, memorySampler, recordRow } from './helpers.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const FD_LIMIT = 256;
const FLOOD = 300;
const CLIENTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];

test(
  'web flood: 300 header-only sockets against a daemon with ulimit -n 256 cost no download',
  { timeout: 180_000 },
  async (t) => {
    const files = count(40, 120);
    const base = mkdtempSync(join(tmpdir(), 'radarlib-rel-flood-'));
    const root = join(base, 'srv');
    const local = join(base, 'local');
    mkdirSync(join(root, 'data'), { recursive: true });
    const server = await startEmbeddedFtp({ root, password: 'flood-pw', readDelayMs: 100 });
    const tokenFile = join(base, 'token');
    writeFileSync(tokenFile, 'flood-token\n');
    const config = join(base, 'radarlib.yaml');
    writeFileSync(
      config,
      YAML.stringify({
        host: '127.0.0.1',
        port: server.port,
        username: server.user,
        password: server.password,
        remotePath: '/data',
        localDir: local,
        minAge: 0,
        pollInterval: 0.2,
        maxConcurrentDownloads: 3,
        backoff: { initialDelay: 0.05, maxDelay: 0.2 },
      }),
    );
    const child = spawn(
      'sh',
      [
        '-c',
        `ulimit -n ${FD_LIMIT} && exec "$0" "$@"`,
        process.execPath,
        '--import',
        'tsx',
        MAIN,
        'daemon',
        '--config',
        config,
        '--http',
        '127.0.0.1:0',
        '--http-token-file',
        tokenFile,
        '--log-format',
        'json',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (output += c));
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        output += `${line}\n`;
        const m = /"msg":"status page listening"/.test(line) ? /"url":"([^"]+)"/.exec(line) : null;
        if (m !== null) resolve(m[1] as string);
      });
      child.on('exit', (code) => reject(new Error(`daemon exited (${code}): ${output.slice(-3000)}`)));
    });
    const sockets = new Set<Socket>();
    let opened = 0;
    let stop = false;
    t.after(async () => {
      stop = true;
      for (const s of sockets) s.destroy();
      child.kill('SIGTERM');
      await exited;
      await server.stop();
      rmSync(base, { recursive: true, force: true });
    });
    const { port } = new URL(url);
    const MAX_OPENS = FLOOD * 400; // bound on reconnects for the whole test
    const open = (localAddress: string): void => {
      if (stop || opened >= MAX_OPENS) return;
      opened++;
      const s = connect({ port: Number(port), host: '127.0.0.1', localAddress }, () =>
        s.write('GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic Zm9vOmJhcg==\r\n'),
      );
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        // Keep the pressure on: whatever the server closes comes back.
        setTimeout(() => open(localAddress), 100);
      });
    };
    const mem = memorySampler();
    const started = Date.now();
    for (let i = 0; i < FLOOD; i++) open(CLIENTS[i % CLIENTS.length] as string);
    await sleep(500);

    // Publish the files in batches while the flood holds.
    const expected = new Map<string, string>();
    for (let i = 0; i < files; i++) {
      const name = `f${String(i).padStart(4, '0')}.BUFR`;
      const path = join(root, 'data', name);
      writeFileSync(path, Buffer.alloc(50_000 + i * 7, i % 251));
      expected.set(name, sha256File(path));
      if (i % 10 === 9) await sleep(150);
    }
    const ledgerPath = join(local, '.radarlib', 'ledger.sqlite');
    const doneCount = async (): Promise<{ done: number; failed: number }> => {
      if (!existsSync(ledgerPath)) return { done: 0, failed: 0 };
      const ledger = await openLedger(ledgerPath);
      try {
        const c = await ledger.counts();
        return { done: c.downloaded + c.processed, failed: c.failed };
      } finally {
        await ledger.close();
      }
    };
    let state = await doneCount();
    for (let i = 0; i < 600 && state.done + state.failed < files; i++) {
      await sleep(100);
      state = await doneCount();
    }
    const elapsed = Date.now() - started;
    const floodOpenAtEnd = sockets.size;
    stop = true;
    const peak = mem.stop();

    const localFiles = readdirSync(local).filter((f) => f.endsWith('.BUFR'));
    const corrupt = localFiles.filter((f) => sha256File(join(local, f)) !== expected.get(f)).length;
    const lost = [...expected.keys()].filter((f) => !localFiles.includes(f)).length;
    const emfile = (output.match(/EMFILE/g) ?? []).length;
    t.diagnostic(
      `${files} files, ${opened} flood sockets opened (${floodOpenAtEnd} open at the end), ` +
        `${state.failed} failed, ${emfile} EMFILE, ${elapsed} ms`,
    );
    recordRow({
      id: 'security-web-flood',
      scenario: 'security: socket flood on the status page while downloading (ulimit -n 256)',
      injected: `${FLOOD} header-only sockets from 3 loopback addresses, reopened as closed (${opened} in all)`,
      cases: files,
      lost,
      duplicated: 0,
      corrupt,
      outside: 0,
      maxRssMb: peak,
      longestHangMs: elapsed,
      observed: `${state.failed} parked, ${emfile} EMFILE in the daemon's output`,
    });
    assert.equal(emfile, 0, output.slice(-3000));
    assert.equal(state.failed, 0, 'no file parked as failed');
    assert.equal(state.done, files, 'every file downloaded');
    assert.equal(lost, 0);
    assert.equal(corrupt, 0);
    assert.ok(opened >= FLOOD && opened < MAX_OPENS, 'the flood ran until the end');
  },
);
