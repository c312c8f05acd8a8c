/** The in-process FTP server the default `npm test` runs against (see src/demo/embedded-ftp-server.ts). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

export function startEmbeddedFtp(options: EmbeddedFtpOptions): Promise<EmbeddedFtpServer> {
  return startEmbeddedFtpServer(options);
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
