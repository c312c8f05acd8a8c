/**
 * The download daemon: watch an FTP folder, take every new radar volume once, decode it. The
 * parts between `#region readme` markers are the README's snippet, word for word (a test checks
 * it).
 *
 *   npx tsx examples/ftp-daemon-example.ts            # against an embedded demo server
 *   RADARLIB_FTP_HOST=ftp.example.com RADARLIB_FTP_USER=user RADARLIB_FTP_PASSWORD=... \
 *   RADARLIB_FTP_PATH=/radar/data npx tsx examples/ftp-daemon-example.ts    # Ctrl-C stops it
 *
 * For production, run `radarlib daemon --config radarlib.yaml` instead (docs/DAEMON.md).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRadarVolume, makeSyntheticVolume, radarVolumeFileName } from 'radarlib/bufr';
import { startEmbeddedFtpServer, type EmbeddedFtpServer } from 'radarlib/demo';
import type { RunOptions } from 'radarlib';
// #region readme
import { FTPDaemon, type FTPDaemonConfig } from 'radarlib';
import { readRadarVolume } from 'radarlib/bufr';
// #endregion readme

/** With no server configured, publish six small synthetic volumes on a loopback FTP server. */
async function embeddedDefault(): Promise<EmbeddedFtpServer> {
  const root = await mkdtemp(join(tmpdir(), 'radarlib-example-server-'));
  await mkdir(join(root, 'radar/data'), { recursive: true });
  for (let i = 0; i < 6; i++) {
    const time = new Date(Date.UTC(2025, 9, 20, 15, 20 + i, 28));
    const volume = makeSyntheticVolume({ radar: 'RMA1', time, nrays: 90, ngates: 100, elevations: [0.5] });
    await writeFile(join(root, 'radar/data', radarVolumeFileName(volume)), encodeRadarVolume(volume));
  }
  return startEmbeddedFtpServer({ root });
}

const env = process.env;
const server = env['RADARLIB_FTP_HOST'] === undefined ? await embeddedDefault() : undefined;
const host = env['RADARLIB_FTP_HOST'] ?? server?.host ?? '127.0.0.1';
const port = Number(env['RADARLIB_FTP_PORT'] ?? server?.port ?? 21);
const username = env['RADARLIB_FTP_USER'] ?? server?.user ?? 'anonymous';
const password = env['RADARLIB_FTP_PASSWORD'] ?? server?.password ?? '';
const remotePath = env['RADARLIB_FTP_PATH'] ?? '/radar/data';
const localDir = env['RADARLIB_EXAMPLE_DIR'] ?? (await mkdtemp(join(tmpdir(), 'radarlib-example-incoming-')));
// With the demo server: three polls a second apart, then stop. With a real one: until Ctrl-C.
const runOptions: RunOptions = server === undefined ? {} : { maxIterations: 3 };

// #region readme

const config: FTPDaemonConfig = {
  host, // e.g. 'ftp.example.com'; defaults: port 21, user anonymous, empty password
  port,
  username,
  password,
  remotePath, // e.g. '/radar/data'
  localDir, // e.g. '/data/radar/incoming'
  // more defaults: filePattern '*.BUFR', recursive false, pollInterval 60 (s), maxConcurrentDownloads 5
};
// #endregion readme
// The demo files were just written whole; a real server's uploads get the stability check.
if (server !== undefined) Object.assign(config, { pollInterval: 1, minAge: 0 });
// #region readme
const daemon = new FTPDaemon(config, {
  // runs after the file is committed; sync or async; a throw is recorded per file, never fatal
  onFileDownloaded: async (localPath, info) => {
    const volume = await readRadarVolume(localPath, { noData: 'nan' });
    console.log('downloaded', info.remotePath, volume.radar, volume.field, volume.sweeps.length, 'sweep(s)');
  },
});
daemon.on('failed', (e) => console.error('gave up on', e.remotePath, e.error.message));
process.once('SIGINT', () => void daemon.stop()); // graceful: lets transfers in flight finish
await daemon.run(runOptions); // {}: until stop(); { maxIterations: n }: n cycles; runOnce(): one cycle
console.log(`done: ${daemon.getProcessedFiles().length} files in ${localDir}`);
// #endregion readme
await server?.stop();
if (server !== undefined) await rm(server.root, { recursive: true, force: true });
