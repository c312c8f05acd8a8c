/**
 * The client of a `protocol: sftp` source: its config keys as `AsyncSFTPClient` options.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { ConfigError } from '../errors.js';
import { AsyncSFTPClient } from '../sftp/client.js';
import type { AsyncSFTPClientOptions } from '../sftp/types.js';
import type { SourceConfig } from './config.js';

/** Reads the passphrase only now, so the resolved config never holds it. */
function readPassphrase(source: SourceConfig): string | undefined {
  const file = source.sftp.passphraseFile;
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(source.name, 'sftp.passphraseFile', `cannot read ${file} (${code})`, {
      cause: err,
    });
  }
}

export function createSftpSourceClient(source: SourceConfig, logger: Logger): AsyncSFTPClient {
  const { sftp } = source;
  const passphrase = readPassphrase(source);
  const options: AsyncSFTPClientOptions = {
    host: source.host,
    port: source.port,
    username: source.username,
    ...(source.password === '' ? {} : { password: source.password }),
    ...(sftp.privateKeyFile === undefined ? {} : { privateKeyFile: sftp.privateKeyFile }),
    ...(passphrase === undefined ? {} : { passphrase }),
    agent: sftp.agent,
    ...(sftp.knownHosts === undefined ? {} : { knownHosts: sftp.knownHosts }),
    ...(sftp.hostKeyFingerprint === undefined ? {} : { hostKeyFingerprint: sftp.hostKeyFingerprint }),
    acceptAnyHostKey: sftp.acceptAnyHostKey,
    maxConnections: source.maxConnections,
    timeouts: {
      connectMs: source.timeouts.connect * 1000,
      commandMs: source.timeouts.command * 1000,
      dataStallMs: source.timeouts.dataStall * 1000,
    },
    logger,
  };
  return new AsyncSFTPClient(options);
}
