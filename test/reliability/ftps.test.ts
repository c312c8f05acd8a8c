/**
 * FTPS certificates: a self-signed or wrong-host certificate is refused by default, with a typed
 * TLS error; only `tls: { rejectUnauthorized: false }` lets it through, and that logs a warning.
 * Against real servers with explicit FTPS (AUTH TLS) and a self-signed certificate for 127.0.0.1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { AsyncFTPClient } from '../../src/ftp/client.js';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import { FtpTlsError } from '../../src/errors.js';
import { createLogger } from '../../src/observe/log.js';
import type { AsyncFTPClientOptions } from '../../src/ftp/types.js';
import { DEBIAN_SERVER_KINDS, debianServerAvailable, startDebianServer } from '../helpers/debian-servers.js';
import { FULL, memorySampler, recordRow } from './helpers.js';
import { loginTo } from '../helpers/ftp-login.js';

/** Collects pino JSON lines. */
function lineSink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  let partial = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      partial += chunk.toString('utf8');
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts.filter((l) => l !== ''));
      cb();
    },
  });
  return { stream, lines };
}

const tlsKinds = DEBIAN_SERVER_KINDS.filter((k) => debianServerAvailable(k, { tls: true }) === null);
const kinds = FULL ? tlsKinds : tlsKinds.slice(0, 1);

if (kinds.length === 0) {
  test('FTPS certificates: real FTPS servers', (t) =>
    t.skip(DEBIAN_SERVER_KINDS.map((k) => debianServerAvailable(k, { tls: true })).join('; ')));
}

for (const kind of kinds) {
  test(
    `FTPS · ${kind}: bad certificates refused by default; insecure mode only explicitly, with a warning`,
    { timeout: 120_000 },
    async (t) => {
      const base = mkdtempSync(join(tmpdir(), 'radarlib-rel-ftps-'));
      const root = join(base, 'srv');
      mkdirSync(root);
      writeFileSync(join(root, 'v.BUFR'), Buffer.alloc(50_000, 3));
      const server = await startDebianServer(kind, { root, tls: 'explicit' });
      t.after(async () => {
        await server.stop();
        rmSync(base, { recursive: true, force: true });
      });
      const mem = memorySampler();
      const ca = server.tlsCertPem ?? '';
      const common: AsyncFTPClientOptions = {
        ...loginTo(server),
        secure: 'explicit',
        timeouts: { connectMs: 5000, commandMs: 5000, dataStallMs: 5000 },
      };
      const results: string[] = [];
      let longest = 0;
      const attempt = async (label: string, options: AsyncFTPClientOptions): Promise<Error | null> => {
        const client = new AsyncFTPClient(options);
        const s = Date.now();
        try {
          await client.downloadFile('/v.BUFR', join(base, label));
          results.push(`${label}: accepted`);
          return null;
        } catch (err) {
          const e = err as Error & { code?: string };
          results.push(`${label}: refused (${e.code ?? e.name})`);
          return e;
        } finally {
          longest = Math.max(longest, Date.now() - s);
          client.destroy();
        }
      };

      const selfSigned = await attempt('self-signed, defaults', common);
      const wrongHost = await attempt('trusted CA, wrong host name', {
        ...common,
        tls: { ca, servername: 'ftp.example.org' },
      });
      const trusted = await attempt('trusted CA, right host', { ...common, tls: { ca } });
      const sink = lineSink();
      const logger = createLogger({ destination: sink.stream, pretty: false, level: 'info' });
      const insecure = await attempt('rejectUnauthorized: false', {
        ...common,
        tls: { rejectUnauthorized: false },
        logger,
      });
      const warnings = sink.lines.filter((l) => /"level":40/.test(l) && /verification is OFF/i.test(l));
      const quiet = lineSink();
      await attempt('trusted CA, logged', {
        ...common,
        tls: { ca },
        logger: createLogger({ destination: quiet.stream, pretty: false }),
      });
      const falseAlarms = quiet.lines.filter((l) => /verification is OFF/i.test(l));

      // The daemon: same default, same explicit opt-out.
      const daemonRun = async (
        tls: Record<string, unknown> | undefined,
      ): Promise<{ failed: string; warned: boolean }> => {
        const dsink = lineSink();
        const local = mkdtempSync(join(base, 'daemon-'));
        const d = new FTPDaemon(
          {
            ...loginTo(server),
            secure: 'explicit',
            ...(tls === undefined ? {} : { tls }),
            remotePath: '/',
            localDir: local,
            minAge: 0,
            maxAttempts: 1,
            timeouts: { connect: 5, command: 5, dataStall: 5 },
          },
          { logger: createLogger({ destination: dsink.stream, pretty: false }) },
        );
        try {
          await d.runOnce();
          const rows = await d.ledger!.recent({ limit: 5 });
          const cycleErr = dsink.lines.find((l) => /RADARLIB_FTP_TLS|certificate/i.test(l)) ?? '';
          return {
            failed:
              rows.length === 0
                ? cycleErr === ''
                  ? 'nothing listed'
                  : 'listing refused (TLS)'
                : rows[0]!.state,
            warned: dsink.lines.some((l) => /"level":40/.test(l) && /verification is OFF/i.test(l)),
          };
        } finally {
          await d.stop();
        }
      };
      const daemonDefault = await daemonRun(undefined);
      const daemonInsecure = await daemonRun({ rejectUnauthorized: false });

      recordRow({
        id: `ftps-${kind}`,
        scenario: `FTPS certificates (${kind})`,
        injected: 'self-signed certificate for IP 127.0.0.1; a trusted CA with another host name',
        cases: 7,
        lost: 0,
        duplicated: 0,
        corrupt: 0,
        maxRssMb: mem.stop(),
        longestHangMs: longest,
        observed: `${results.join('; ')}; warning lines in insecure mode: ${warnings.length} (with a trusted CA: ${falseAlarms.length}); daemon default: ${daemonDefault.failed}, daemon rejectUnauthorized false: ${daemonInsecure.failed}${daemonInsecure.warned ? ' + warning logged' : ' (NO warning)'}`,
      });
      assert.ok(
        selfSigned instanceof FtpTlsError,
        `self-signed refused with FtpTlsError, got ${String(selfSigned)}`,
      );
      assert.ok(
        wrongHost instanceof FtpTlsError,
        `wrong host refused with FtpTlsError, got ${String(wrongHost)}`,
      );
      assert.equal(trusted, null, 'a trusted certificate for the right host works');
      assert.equal(insecure, null, 'insecure mode connects');
      assert.equal(warnings.length, 1, `one warning line: ${sink.lines.join('\n')}`);
      assert.equal(falseAlarms.length, 0);
      assert.notEqual(
        daemonDefault.failed,
        'processed',
        'the daemon refuses the self-signed certificate by default',
      );
      assert.equal(daemonInsecure.failed, 'processed');
      assert.ok(daemonInsecure.warned, 'the daemon logs the insecure-mode warning');
    },
  );
}
