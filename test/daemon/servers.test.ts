/**
 * The daemon's promises against real FTP servers (vsftpd, pyftpdlib, ProFTPD, Pure-FTPd), each
 * skipped with the reason when it is not installed (`.ci/install-ftp-servers.sh`). Their
 * listings differ (vsftpd has no MLSD: minute-precision LIST times), which is what stability
 * and version detection depend on. The scenario itself is test/helpers/daemon-server-scenario.ts,
 * shared with SFTP (test/sftp/daemon-servers.test.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEBIAN_SERVER_KINDS, debianServerAvailable, startDebianServer } from '../helpers/debian-servers.js';
import { daemonServerScenario } from '../helpers/daemon-server-scenario.js';
import { loginTo } from '../helpers/ftp-login.js';

for (const kind of DEBIAN_SERVER_KINDS) {
  daemonServerScenario({
    title: `daemon against ${kind}: once, late file, new version, growing file, radar tree`,
    unavailable: () => debianServerAvailable(kind),
    start: async (base) => {
      const root = join(base, 'srv');
      mkdirSync(root);
      const server = await startDebianServer(kind, { root });
      return {
        root,
        connection: loginTo(server),
        logTail: () => server.logTail(20),
        stop: () => server.stop(),
      };
    },
    // LIST times (vsftpd) are to the minute.
    timeResolutionMs: 60_000,
    newVersion: { laterByMs: 3_600_000, size: 30_000 },
    exactTimes: false,
  });
}
