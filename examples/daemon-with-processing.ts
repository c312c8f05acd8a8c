/**
 * The daemon with file processing: every radar volume the daemon commits is decoded with
 * `readRadarVolume` and summarised. A file that does not decode is recorded in the ledger as a
 * callback error (see `radarlib status`); the daemon goes on with the next one.
 *
 *   npx tsx examples/daemon-with-processing.ts        # embedded server with synthetic volumes
 *   RADARLIB_FTP_HOST=... RADARLIB_FTP_USER=... RADARLIB_FTP_PASSWORD=... \
 *   RADARLIB_FTP_PATH=/L2 npx tsx examples/daemon-with-processing.ts
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRadarVolume, makeSyntheticVolume, radarVolumeFileName, readRadarVolume } from 'radarlib/bufr';
import { createLogger, FTPDaemon, radarTreeFolder } from 'radarlib';
import { startEmbeddedFtpServer, type EmbeddedFtpServer } from 'radarlib/demo';

/** A radar date tree with a few synthetic volumes (and one broken file) from the last hour. */
async function embeddedDefault(): Promise<EmbeddedFtpServer> {
  const root = await mkdtemp(join(tmpdir(), 'radarlib-example-server-'));
  const now = Math.floor(Date.now() / 600_000) * 600_000;
  for (let i = 0; i < 3; i++) {
    const time = new Date(now - i * 600_000);
    for (const field of ['DBZH', 'VRAD']) {
      const volume = makeSyntheticVolume({
        radar: 'RMA1',
        time,
        field,
        nrays: 360,
        ngates: 200,
        elevations: [0.5, 1.3],
      });
      const dir = join(root, radarTreeFolder('/L2', 'RMA1', time));
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, radarVolumeFileName(volume)), encodeRadarVolume(volume));
    }
  }
  const broken = new Date(now);
  const dir = join(root, radarTreeFolder('/L2', 'RMA1', broken));
  await writeFile(
    join(dir, `RMA1_0315_01_ZDR_${broken.toISOString().replace(/[-:]|\.\d{3}/g, '')}.BUFR`),
    'not BUFR',
  );
  return startEmbeddedFtpServer({ root });
}

const env = process.env;
const server = env['RADARLIB_FTP_HOST'] === undefined ? await embeddedDefault() : undefined;
const localDir = env['RADARLIB_EXAMPLE_DIR'] ?? (await mkdtemp(join(tmpdir(), 'radarlib-example-incoming-')));

const daemon = new FTPDaemon(
  {
    host: env['RADARLIB_FTP_HOST'] ?? server?.host ?? '127.0.0.1',
    port: Number(env['RADARLIB_FTP_PORT'] ?? server?.port ?? 21),
    username: env['RADARLIB_FTP_USER'] ?? server?.user ?? 'anonymous',
    password: env['RADARLIB_FTP_PASSWORD'] ?? server?.password ?? '',
    remotePath: env['RADARLIB_FTP_PATH'] ?? '/L2',
    layout: 'radar-tree',
    lookback: 6 * 3600,
    localLayout: '{radar}/{yyyy}/{mm}/{dd}/',
    localDir,
    pollInterval: server === undefined ? 60 : 1,
    callbackConcurrency: 2,
    ...(server === undefined ? {} : { minAge: 0 }),
  },
  {
    logger: createLogger({ level: 'error' }),
    onFileDownloaded: async (localPath, info) => {
      // A throw here is logged and recorded for this file; the daemon carries on.
      const volume = await readRadarVolume(localPath, { signal: info.signal });
      const elevations = volume.sweeps.map((s) => s.elevation.toFixed(1)).join(', ');
      console.log(
        `${volume.radar} ${volume.field} ${volume.time.toISOString()}: ${volume.sweeps.length} sweeps (${elevations} deg)`,
      );
    },
  },
);
daemon.on('processed', (e) => {
  if (e.error !== null) console.log(`could not process ${e.record.remotePath}: ${e.error.message}`);
});
process.once('SIGINT', () => void daemon.stop());
process.once('SIGTERM', () => void daemon.stop());

await daemon.run(server === undefined ? {} : { maxIterations: 2 });
await server?.stop();
if (server !== undefined) await rm(server.root, { recursive: true, force: true });
