/** The in-process FTP server the default `npm test` runs against (see src/demo/embedded-ftp-server.ts). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import {
  startEmbeddedFtpServer,
  type EmbeddedFtpOptions,
  type EmbeddedFtpServer,
} from '../../src/demo/embedded-ftp-server.js';
import { AsyncFTPClient } from '../../src/ftp/index.js';
import { loginTo } from './ftp-login.js';

export type { EmbeddedFtpServer } from '../../src/demo/embedded-ftp-server.js';

/**
 * How the server answers `STAT <path>`: as ftp-srv does (the folder's `ls -l` lines, 213),
 * `refuse` (502, a server without it), `empty` (an empty 213 for every path: vsftpd and
 * Pure-FTPd answer a missing folder so).
 */
export type StatRule = 'answer' | 'refuse' | 'empty';

/** STAT rules of the running test servers, by control port (ftp-srv's STAT handler is one for all). */
const statRules = new Map<number, StatRule>();

interface FtpSrvCommand {
  handler: (
    this: { commandSocket?: { localPort?: number }; reply: (code: number, ...lines: string[]) => unknown },
    args: unknown,
  ) => unknown;
}

/** Puts statRules in front of ftp-srv's STAT (once per process). */
function hookStat(): void {
  const registry = createRequire(import.meta.url)('ftp-srv/src/commands/registry') as Record<
    string,
    FtpSrvCommand
  >;
  const stat = registry['STAT'];
  if (stat === undefined || (stat as { hooked?: true }).hooked === true) return;
  const own = stat.handler;
  stat.handler = function (args) {
    const rule = statRules.get(this.commandSocket?.localPort ?? 0) ?? 'answer';
    if (rule === 'refuse') return this.reply(502, 'STAT not implemented (test rule)');
    if (rule === 'empty') return this.reply(213, 'End of status (test rule)');
    return own.call(this, args);
  };
  Object.assign(stat, { hooked: true });
}

export async function startEmbeddedFtp(
  options: EmbeddedFtpOptions & { stat?: StatRule },
): Promise<EmbeddedFtpServer> {
  const { stat = 'answer', ...serverOptions } = options;
  const server = await startEmbeddedFtpServer(serverOptions);
  if (stat === 'answer') return server;
  hookStat();
  statRules.set(server.port, stat);
  const stop = server.stop.bind(server);
  return Object.assign(server, {
    stop: async () => {
      statRules.delete(server.port);
      await stop();
    },
  });
}

/**
 * An embedded server whose `/radar` holds `files`, an empty local folder (`local`) beside it
 * under `base`, and a client of the server; all stopped and removed after the test `t`.
 */
export async function serveRadarFolder(
  t: TestContext,
  files: Record<string, Buffer>,
  maxConnections: number,
): Promise<{ base: string; local: string; server: EmbeddedFtpServer; client: AsyncFTPClient }> {
  const base = mkdtempSync(join(tmpdir(), 'radarlib-radar-folder-'));
  mkdirSync(join(base, 'srv', 'radar'), { recursive: true });
  mkdirSync(join(base, 'local'));
  for (const [name, data] of Object.entries(files)) writeFileSync(join(base, 'srv', 'radar', name), data);
  const server = await startEmbeddedFtp({ root: join(base, 'srv') });
  const client = new AsyncFTPClient({ ...loginTo(server), maxConnections });
  t.after(async () => {
    await client.disconnect();
    await server.stop();
    rmSync(base, { recursive: true, force: true });
  });
  return { base, local: join(base, 'local'), server, client };
}
