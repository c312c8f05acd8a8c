/**
 * The README's first example: list and download radar volumes with AsyncFTPClient. The parts
 * between `#region readme` markers are the README's snippet, word for word (a test checks it).
 *
 *   npx tsx examples/ftp-client-example.ts            # against an embedded demo server
 *   RADARLIB_FTP_HOST=ftp.example.com RADARLIB_FTP_USER=user RADARLIB_FTP_PASSWORD=... \
 *   RADARLIB_FTP_PATH=/radar/data npx tsx examples/ftp-client-example.ts
 */
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedFtpServer, type EmbeddedFtpServer } from 'radarlib/demo';
// #region readme
import { AsyncFTPClient, RadarlibError } from 'radarlib/ftp';
// #endregion readme

/** With no server configured, publish a few files on an in-process FTP server on loopback. */
async function embeddedDefault(): Promise<EmbeddedFtpServer> {
  const root = await mkdtemp(join(tmpdir(), 'radarlib-example-server-'));
  await mkdir(join(root, 'radar/data'), { recursive: true });
  for (let i = 0; i < 8; i++) {
    const name = `RMA1_0315_01_DBZH_20251020T15${String(20 + i).padStart(2, '0')}28Z.BUFR`;
    await writeFile(join(root, 'radar/data', name), Buffer.alloc(100_000 + i * 25_000, i));
  }
  return startEmbeddedFtpServer({ root });
}

const env = process.env;
const server = env['RADARLIB_FTP_HOST'] === undefined ? await embeddedDefault() : undefined;
const host = env['RADARLIB_FTP_HOST'] ?? server?.host ?? '127.0.0.1';
const port = Number(env['RADARLIB_FTP_PORT'] ?? server?.port ?? 21);
const username = env['RADARLIB_FTP_USER'] ?? server?.user ?? 'anonymous';
const password = env['RADARLIB_FTP_PASSWORD'] ?? server?.password ?? '';
const remoteDir = env['RADARLIB_FTP_PATH'] ?? '/radar/data';
const localDir = env['RADARLIB_EXAMPLE_DIR'] ?? (await mkdtemp(join(tmpdir(), 'radarlib-example-')));

// #region readme

const client = new AsyncFTPClient({ host, port, username, password }); // or (host, user, pass, port)
await client.connect();
const files = await client.listFiles(remoteDir, { pattern: '*.BUFR', recursive: false });
const downloaded = await client.downloadFiles(files.slice(0, 5), localDir, { maxConcurrent: 3 });
for (const path of downloaded) console.log('downloaded', path);
for (const { remotePath, error } of downloaded.failures) {
  console.error(remotePath, error instanceof RadarlibError ? error.code : error.message);
}
const last = files.at(-1);
if (last !== undefined) {
  console.log(await client.checkFileExists(last)); // true
  console.log(await client.downloadFile(last, localDir)); // `${localDir}/<its name>`
}
await client.disconnect();

// or let the scope close it (`await using`: TypeScript, or Node >= 24 for plain .mjs):
{
  // secure: 'explicit' (AUTH TLS) or 'implicit' for FTPS; the embedded server speaks plain FTP
  await using c = new AsyncFTPClient({ host, port, username, password, secure: false });
  const entries = await c.listEntries(remoteDir, { pattern: '**/*_DBZH_*.BUFR', recursive: true });
  for (const { path, size, modifiedAt } of entries) console.log(path, size, modifiedAt);
}
// #endregion readme
await server?.stop();
