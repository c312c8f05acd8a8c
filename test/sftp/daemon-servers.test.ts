/**
 * The daemon's server suite (test/helpers/daemon-server-scenario.ts, as run on the FTP servers by
 * test/daemon/servers.test.ts) with `protocol: 'sftp'`: against the embedded SSH/SFTP server
 * always, and against OpenSSH's sshd when it is installed (skipped with the reason otherwise).
 * Every promise holds as for FTP; SFTP's exact times (UTC seconds) reach the ledger as listed.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { daemonServerScenario, type ServerUnderTest } from '../helpers/daemon-server-scenario.js';
import { startEmbeddedSftp, writeKnownHosts } from '../helpers/embedded-sftp.js';
import { opensshAvailable, startOpenSsh } from '../helpers/openssh-server.js';

interface SftpServer {
  host: string;
  port: number;
  username: string;
  password: string;
  knownHosts: string;
  root: string;
  logTail?: () => string;
  stop(): Promise<void>;
}

function underTest(s: SftpServer): ServerUnderTest {
  return {
    root: s.root,
    connection: {
      protocol: 'sftp',
      host: s.host,
      port: s.port,
      username: s.username,
      password: s.password,
      sftp: { knownHosts: s.knownHosts },
    },
    ...(s.logTail === undefined ? {} : { logTail: s.logTail }),
    stop: () => s.stop(),
  };
}

const SERVERS: Record<
  string,
  { unavailable: () => string | null; start: (base: string) => Promise<SftpServer> }
> = {
  embedded: {
    unavailable: () => null,
    start: async (base) => {
      const root = join(base, 'srv');
      mkdirSync(root);
      const s = await startEmbeddedSftp({ root });
      return { ...s, knownHosts: writeKnownHosts(s, base), root };
    },
  },
  openssh: { unavailable: opensshAvailable, start: () => startOpenSsh() },
};

for (const [kind, server] of Object.entries(SERVERS)) {
  daemonServerScenario({
    title: `daemon over SFTP (${kind}): once, late file, new version, growing file, radar tree`,
    unavailable: server.unavailable,
    start: async (base) => underTest(await server.start(base)),
    timeResolutionMs: 1000,
    // One second newer is enough, at the same size.
    newVersion: { laterByMs: 1000, size: 20_000 },
    exactTimes: true,
  });
}
