/**
 * The download daemon: watch an FTP folder, take every new radar file once, hand it over.
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
import { FTPDaemon, type FTPDaemonConfig } from '../src/daemon/index.js';
import { createLogger } from '../src/observe/log.js';
import { startEmbeddedFtpServer, type EmbeddedFtpServer } from '../src/demo/embedded-ftp-server.js';

/** With no server configured, publish a few files on an in-process FTP server on loopback. */
async function embeddedDefault(): Promise<EmbeddedFtpServer> {
  const root = await mkdtemp(join(tmpdir(), 'radarlib-example-server-'));
  await mkdir(join(root, 'radar/data'), { recursive: true });
  for (let i = 0; i < 6; i++) {
    const name = `RMA1_0315_01_DBZH_20251020T15${String(20 + i).padStart(2, '0')}28Z.BUFR`;
    await writeFile(join(root, 'radar/data', name), Buffer.alloc(50_000 + i * 10_000, i));
  }
  return startEmbeddedFtpServer({ root });
}

const env = process.env;
const server = env['RADARLIB_FTP_HOST'] === undefined ? await embeddedDefault() : undefined;
const localDir = env['RADARLIB_EXAMPLE_DIR'] ?? (await mkdtemp(join(tmpdir(), 'radarlib-example-incoming-')));

const config: FTPDaemonConfig = {
  host: env['RADARLIB_FTP_HOST'] ?? server?.host ?? '127.0.0.1',
  port: Number(env['RADARLIB_FTP_PORT'] ?? server?.port ?? 21),
  username: env['RADARLIB_FTP_USER'] ?? server?.user ?? 'anonymous',
  password: env['RADARLIB_FTP_PASSWORD'] ?? server?.password ?? '',
  remotePath: env['RADARLIB_FTP_PATH'] ?? '/radar/data',
  localDir,
  pollInterval: server === undefined ? 60 : 1,
  maxConcurrentDownloads: 5,
  // The demo files were just written; a real server's uploads get the stability check.
  ...(server === undefined ? {} : { minAge: 0 }),
};

const daemon = new FTPDaemon(config, {
  logger: createLogger({ level: 'warn' }),
  onFileDownloaded: async (localPath, info) => {
    console.log(`downloaded ${info.remotePath} -> ${localPath} (${info.size} bytes)`);
  },
});
daemon.on('failed', (e) => console.error(`gave up on ${e.remotePath}: ${e.error.message}`));
process.once('SIGINT', () => void daemon.stop());
process.once('SIGTERM', () => void daemon.stop());

// With the demo server: three polls, then stop. With a real one: until Ctrl-C.
await daemon.run(server === undefined ? {} : { maxIterations: 3 });
console.log(`done: ${daemon.getProcessedFiles().length} files in ${localDir}`);
await server?.stop();
if (server !== undefined) await rm(server.root, { recursive: true, force: true });
