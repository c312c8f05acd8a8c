// Runs inside a fresh project where the packed radarlib tarball was installed with --omit=dev:
// imports every entry point as a user would, checks what each one loads, then talks to a real
// FTP server (the embedded one from radarlib/demo, on loopback): a download with the client, one
// daemon cycle with a SQLite ledger, a decode of what arrived, and the status server's /healthz.
// Prints one JSON line for install.test.ts to assert on.
/* global fetch */
import { Buffer } from 'node:buffer';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
// ssh2 loads with the first SFTP connection, yaml with the first config file read, zod with the
// first config validated, picomatch with the first glob compiled (all through `require`, so they
// show in its cache).
const HEAVY = /node_modules[\\/](better-sqlite3|pg|pngjs|ftp-srv|prom-client|ssh2|yaml|zod|picomatch)[\\/]/;
const heavyLoaded = () => [...new Set(Object.keys(require.cache).flatMap((k) => HEAVY.exec(k)?.[1] ?? []))];
const nativeLoaded = [];
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  nativeLoaded.push(filename);
  return dlopen.call(this, module, filename, ...rest);
};

const report = {};
const ftp = await import('radarlib/ftp');
const bufr = await import('radarlib/bufr');
report.afterFtpAndBufr = { heavy: heavyLoaded(), native: nativeLoaded.length };
const radarlib = await import('radarlib');
report.afterRoot = { heavy: heavyLoaded(), native: nativeLoaded.length };
const sftp = await import('radarlib/sftp');
const web = await import('radarlib/web');
const demo = await import('radarlib/demo');
report.exports = {
  radarlib: Object.keys(radarlib).length,
  ftp: Object.keys(ftp).length,
  bufr: Object.keys(bufr).length,
  sftp: Object.keys(sftp).length,
  web: Object.keys(web).length,
  demo: Object.keys(demo).length,
};

const dir = await mkdtemp(join(tmpdir(), 'radarlib-consumer-'));
await mkdir(join(dir, 'served/data'), { recursive: true });
const volume = bufr.makeSyntheticVolume({ radar: 'RMA1', nrays: 90, ngates: 100, elevations: [0.5, 1.3] });
const name = bufr.radarVolumeFileName(volume);
const bytes = bufr.encodeRadarVolume(volume);
await writeFile(join(dir, 'served/data', name), bytes);
const server = await demo.startEmbeddedFtpServer({ root: join(dir, 'served') });
try {
  const login = { host: server.host, port: server.port, username: server.user, password: server.password };
  const client = new ftp.AsyncFTPClient(login);
  await client.connect();
  const listed = await client.listFiles('/data');
  const got = await client.downloadFile(`/data/${name}`, join(dir, 'client'));
  await client.disconnect();
  report.client = { listed, sameBytes: Buffer.compare(await readFile(got), bytes) === 0 };

  const seen = [];
  const daemon = new radarlib.FTPDaemon(
    { ...login, remotePath: '/data', localDir: join(dir, 'daemon'), minAge: 0, pollInterval: 1 },
    {
      onFileDownloaded: async (localPath, info) => {
        const v = await bufr.readRadarVolume(localPath);
        seen.push({ remotePath: info.remotePath, size: info.size, sweeps: v.sweeps.length, radar: v.radar });
      },
    },
  );
  const status = await web.startStatusServer({ daemon, bind: '127.0.0.1:0' });
  await daemon.runOnce();
  await daemon.runOnce(); // the second listing agrees on the size: the file is taken now at the latest
  const healthz = await fetch(`${status.url}healthz`);
  const metrics = await (await fetch(`${status.url}metrics`)).text();
  await status.close();
  await daemon.stop();
  report.daemon = {
    seen,
    healthz: healthz.status,
    downloadedMetric: /^radarlib_files_downloaded_total\{source="[^"]+"\} 1$/m.test(metrics),
  };
  report.afterLedger = { heavy: heavyLoaded(), native: nativeLoaded.length };
} finally {
  await server.stop();
}
console.log(JSON.stringify(report));
