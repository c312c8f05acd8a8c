/**
 * Credentials: run the client, the daemon (as `radarlib daemon` runs it, plus `--print-config`)
 * and the status page with a known password, through successes and failures (wrong password,
 * refused files, a dead server), and scan everything they produced: every log line at trace
 * level, every error (message, stack, cause chain as `util.inspect` prints it), the ledger's
 * recorded errors, and every status page, JSON and metrics response. The password is nowhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import YAML from 'yaml';
import { AsyncFTPClient } from '../../src/ftp/client.js';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import { runDaemonCommand } from '../../src/cli/commands/daemon.js';
import { createLogger } from '../../src/observe/log.js';
import { startStatusServer } from '../../src/web/server.js';
import { startEmbeddedFtp } from '../helpers/embedded-ftp.js';
import { textSink } from '../helpers/text-sink.js';
import { memorySampler, recordRow } from './helpers.js';

const PASSWORD = 'Kn0wn-Pa55word-radarlib-7Q';

test(
  'credentials: a known password appears in no log line, error, ledger row or status page',
  { timeout: 120_000 },
  async (t) => {
    const base = mkdtempSync(join(tmpdir(), 'radarlib-rel-creds-'));
    const root = join(base, 'srv');
    mkdirSync(join(root, 'data'), { recursive: true });
    for (let i = 0; i < 4; i++) writeFileSync(join(root, 'data', `f${i}.BUFR`), Buffer.alloc(20_000 + i, i));
    const server = await startEmbeddedFtp({ root, password: PASSWORD, refuse: (p) => p.endsWith('f3.BUFR') });
    // Same server, but expecting another password: our known one is then the wrong one.
    const strict = await startEmbeddedFtp({ root, password: 'another-password' });
    t.after(async () => {
      await server.stop();
      await strict.stop();
      rmSync(base, { recursive: true, force: true });
    });
    const mem = memorySampler();
    const texts: { where: string; text: string }[] = [];
    const errors: unknown[] = [];
    const started = Date.now();

    // 1. The client, logging at trace: downloads, a refused file, a wrong password, a dead port.
    const clientLog = textSink();
    const logger = createLogger({ destination: clientLog.stream, pretty: false, level: 'trace' });
    const client = new AsyncFTPClient({
      host: server.host,
      port: server.port,
      username: server.user,
      password: PASSWORD,
      logger,
    });
    const batch = await client.downloadFiles(
      ['/data/f0.BUFR', '/data/f1.BUFR', '/data/f3.BUFR'],
      join(base, 'c'),
    );
    errors.push(...batch.failures.map((f) => f.error));
    await client.disconnect();
    for (const [host, port] of [
      [strict.host, strict.port],
      [server.host, 1],
    ] as const) {
      const c = new AsyncFTPClient({
        host,
        port,
        username: server.user,
        password: PASSWORD,
        logger,
        timeouts: { connectMs: 3000 },
      });
      await c.connect().catch((e: unknown) => errors.push(e));
      c.destroy();
    }
    texts.push({ where: 'client log', text: clientLog.text() });

    // 2. The daemon as `radarlib daemon` runs it (config file + RADARLIB_PASSWORD), at trace level,
    //    with a second source whose password is wrong; and `--print-config`.
    const local = join(base, 'd');
    const config = join(base, 'radarlib.yaml');
    writeFileSync(
      config,
      YAML.stringify({
        localDir: local,
        minAge: 0,
        pollInterval: 0.05,
        maxAttempts: 1,
        sources: [
          {
            name: 'good',
            host: server.host,
            port: server.port,
            username: server.user,
            password: PASSWORD,
            remotePath: '/data',
          },
          {
            name: 'wrong',
            host: strict.host,
            port: strict.port,
            username: server.user,
            password: PASSWORD,
            remotePath: '/data',
            localDir: join(base, 'd2'),
          },
        ],
      }),
    );
    const daemonLog = textSink();
    const status = await runDaemonCommand(
      { config, logLevel: 'trace', logFormat: 'json', maxIterations: 2 },
      { destination: daemonLog.stream, handleSignals: false, env: { RADARLIB_PASSWORD: PASSWORD } },
    );
    texts.push({ where: 'daemon log', text: daemonLog.text() });
    const printed = textSink();
    await runDaemonCommand(
      { config, printConfig: true },
      { destination: printed.stream, handleSignals: false, env: {} },
    );
    texts.push({ where: 'print-config', text: printed.text() });
    const pretty = textSink();
    await runDaemonCommand(
      { config, logLevel: 'trace', logFormat: 'pretty', maxIterations: 1 },
      { destination: pretty.stream, handleSignals: false, env: {} },
    );
    texts.push({ where: 'daemon pretty log', text: pretty.text() });

    // 3. The status page, JSON and metrics of a daemon that has run (with failures).
    const d = new FTPDaemon(
      YAML.parse(
        YAML.stringify({
          localDir: local,
          minAge: 0,
          maxAttempts: 1,
          sources: [
            {
              name: 'good',
              host: server.host,
              port: server.port,
              username: server.user,
              password: PASSWORD,
              remotePath: '/data',
            },
            {
              name: 'wrong',
              host: strict.host,
              port: strict.port,
              username: server.user,
              password: PASSWORD,
              remotePath: '/data',
              localDir: join(base, 'd3'),
            },
          ],
        }),
      ) as ConstructorParameters<typeof FTPDaemon>[0],
    );
    d.on('failed', (e) => errors.push(e.error));
    d.on('cycle', (e) => {
      if (e.error !== null) errors.push(e.error);
    });
    const web = await startStatusServer({ daemon: d, bind: '127.0.0.1:0' });
    await d.runOnce();
    for (const path of ['/', '/index.html', '/api/status', '/metrics', '/healthz', '/api/quicklook.png']) {
      const res = await fetch(new URL(path, web.url));
      texts.push({ where: `GET ${path}`, text: Buffer.from(await res.arrayBuffer()).toString('latin1') });
    }
    const rows = await d.ledger!.recent({ limit: 100 });
    texts.push({ where: 'ledger rows', text: JSON.stringify(rows) });
    await web.close();
    await d.stop();

    for (const [i, e] of errors.entries()) {
      const err = e as Error;
      texts.push({
        where: `error ${i} (${(e as { code?: string }).code ?? err.name})`,
        text: `${err.message}\n${err.stack ?? ''}\n${inspect(e, { depth: 8 })}\n${JSON.stringify(e)}`,
      });
    }

    const leaks = texts.filter((x) => x.text.includes(PASSWORD)).map((x) => x.where);
    const lines = texts.reduce((n, x) => n + x.text.split('\n').length, 0);
    recordRow({
      id: 'credentials',
      scenario: 'Credentials never shown',
      injected:
        'known password in client options, YAML config, RADARLIB_PASSWORD; wrong-password server, refused file, dead port; log level trace',
      cases: texts.length,
      lost: 0,
      duplicated: 0,
      corrupt: 0,
      maxRssMb: mem.stop(),
      longestHangMs: Date.now() - started,
      observed: `scanned ${texts.length} outputs (${lines} lines): ${texts.filter((x) => x.where.startsWith('error')).length} errors, client + daemon logs (JSON and pretty), --print-config, 6 web routes, ledger rows; daemon exit ${status}; password found in: ${leaks.length === 0 ? 'nothing' : leaks.join(', ')}`,
    });
    assert.ok(errors.length >= 4, `failures were exercised (${errors.length} errors)`);
    assert.ok(texts.find((x) => x.where === 'daemon log')!.text.length > 0);
    assert.deepEqual(leaks, [], 'the password appears nowhere');
  },
);
