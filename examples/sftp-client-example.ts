/**
 * The README's SFTP example: the same client interface as AsyncFTPClient, over SSH. The part
 * between `#region readme` markers is the README's snippet, word for word (a test checks it and
 * runs this file against an in-process SFTP server).
 *
 *   RADARLIB_SFTP_HOST=sftp.example.com RADARLIB_SFTP_USER=radar RADARLIB_SFTP_PASSWORD=... \
 *   RADARLIB_SFTP_PATH=/radar/data npx tsx examples/sftp-client-example.ts
 *   (RADARLIB_SFTP_KNOWN_HOSTS=file to check the host key against another known_hosts file)
 */
import { mkdtemp } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
// #region readme
import { AsyncSFTPClient } from 'radarlib/sftp';
// #endregion readme

const env = process.env;
const host = env['RADARLIB_SFTP_HOST'];
if (host === undefined) {
  console.log('set RADARLIB_SFTP_HOST (and _USER, _PASSWORD, _PATH) to run this example');
  process.exit(0);
}
const port = Number(env['RADARLIB_SFTP_PORT'] ?? 22);
const username = env['RADARLIB_SFTP_USER'] ?? 'radar';
const password = env['RADARLIB_SFTP_PASSWORD'] ?? '';
const knownHosts = env['RADARLIB_SFTP_KNOWN_HOSTS'] ?? join(homedir(), '.ssh', 'known_hosts');
const remoteDir = env['RADARLIB_SFTP_PATH'] ?? '/radar/data';
const localDir = env['RADARLIB_EXAMPLE_DIR'] ?? (await mkdtemp(join(tmpdir(), 'radarlib-example-')));

// #region readme

await using client = new AsyncSFTPClient({
  host, // e.g. 'sftp.example.com'
  port, // 22 by default
  username,
  password, // or privateKeyFile: '/etc/radarlib/id_ed25519', or agent: true ($SSH_AUTH_SOCK)
  knownHosts, // host keys to trust: ~/.ssh/known_hosts by default (hashed entries and [host]:port
  // understood); or hostKeyFingerprint: 'SHA256:…'
});
const files = await client.listFiles(remoteDir, { pattern: '*.BUFR', recursive: false });
const downloaded = await client.downloadFiles(files.slice(0, 5), localDir, { maxConcurrent: 3 });
console.log(downloaded.length, 'downloaded;', downloaded.failures.length, 'failed');
console.log(await client.checkFileExists(`${remoteDir}/missing.BUFR`)); // false
// #endregion readme
