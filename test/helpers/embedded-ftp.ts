/** The in-process FTP server the default `npm test` runs against (see src/demo/embedded-ftp-server.ts). */
import {
  startEmbeddedFtpServer,
  type EmbeddedFtpOptions,
  type EmbeddedFtpServer,
} from '../../src/demo/embedded-ftp-server.js';

export type { EmbeddedFtpServer } from '../../src/demo/embedded-ftp-server.js';

export function startEmbeddedFtp(options: EmbeddedFtpOptions): Promise<EmbeddedFtpServer> {
  return startEmbeddedFtpServer(options);
}
