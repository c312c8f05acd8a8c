/**
 * The README's first example: list and download radar volumes with AsyncFTPClient.
 *
 *   npx tsx examples/ftp-client-example.ts            # against an embedded demo server
 *   RADARLIB_FTP_HOST=ftp.example.com RADARLIB_FTP_USER=user RADARLIB_FTP_PASSWORD=... \
 *   RADARLIB_FTP_PATH=/radar/data npx tsx examples/ftp-client-example.ts
 */
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsyncFTPClient } from '../src/ftp/index.js';
import { startEmbeddedFtpServer, type EmbeddedFtpServer } from '../src/demo/embedded-ftp-server.js';

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

const configured = process.env.RADARLIB_FTP_HOST;
const server = configured === undefined ? await embeddedDefault() : undefined;

{
  await using client = new AsyncFTPClient({
    host: configured ?? server?.host ?? '127.0.0.1',
    port: Number(process.env.RADARLIB_FTP_PORT ?? server?.port ?? 21),
    username: process.env.RADARLIB_FTP_USER ?? server?.user ?? 'anonymous',
    password: process.env.RADARLIB_FTP_PASSWORD ?? server?.password ?? '',
  });
  await client.connect();

  const remoteDir = process.env.RADARLIB_FTP_PATH ?? '/radar/data';
  const files = await client.listFiles(remoteDir, { pattern: '*.BUFR', recursive: false });
  console.log(`${files.length} volumes in ${remoteDir}`);

  const localDir = await mkdtemp(join(tmpdir(), 'radarlib-example-'));
  const downloaded = await client.downloadFiles(files.slice(0, 5), localDir, { maxConcurrent: 3 });
  for (const path of downloaded) console.log(`downloaded ${path}`);
  for (const { remotePath, error } of downloaded.failures)
    console.log(`failed ${remotePath}: ${error.message}`);

  const first = files[0];
  if (first !== undefined) console.log(`${first} exists: ${await client.checkFileExists(first)}`);
}
await server?.stop();
