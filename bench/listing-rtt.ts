/**
 * Where one listing's time goes over the emulated WAN (issue 12: ~4.5 round trips per listing
 * instead of 3). Lists one small folder 10 times on one connection through basic-ftp, timing each
 * control-connection event, and prints the median gap between them in round trips.
 *
 *   flock /tmp/radarlib-bench.lock node --import tsx bench/listing-rtt.ts DIR
 *
 * DIR is served as the FTP root and must hold `a/b/` with a few small files (readable by
 * proftpd's `nobody`). Then radarlib's own `listDir` is timed the same way (total only).
 */
import { Client } from 'basic-ftp';
import { AsyncFTPClient } from '../src/ftp/client.js';
import { startProftpd } from './lib/proftpd.js';
import { wan, WAN_HOST, WAN_NS } from './lib/setup.js';

const dir = process.argv[2] ?? '/tmp';
if (!wan('up').ok) throw new Error('WAN setup failed');
try {
  const server = await startProftpd({ root: dir, host: WAN_HOST, port: 24_321, netns: WAN_NS });
  const client = new Client(30_000);
  let t0 = 0;
  const marks: [string, number][] = [];
  client.ftp.log = (m: string): void => {
    const line = m.split('\n')[0] ?? '';
    if (/^(>|<) /.test(line)) marks.push([line.slice(0, 12), performance.now() - t0]);
  };
  client.ftp.verbose = true;
  await client.access({ host: server.host, port: server.port, user: server.user, password: server.password });
  // One round trip on the control connection, for scale.
  const rtts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await client.send('NOOP');
    rtts.push(performance.now() - t);
  }
  const rtt = rtts.sort((a, b) => a - b)[2] ?? 1;
  const runs: [string, number][][] = [];
  const totals: number[] = [];
  for (let i = 0; i < 10; i++) {
    marks.length = 0;
    t0 = performance.now();
    await client.list('/a/b');
    totals.push(performance.now() - t0);
    runs.push([...marks]);
  }
  totals.sort((a, b) => a - b);
  console.log(
    `NOOP RTT ${rtt.toFixed(1)} ms; listing median ${(totals[5] ?? 0).toFixed(1)} ms = ${((totals[5] ?? 0) / rtt).toFixed(2)} RTT`,
  );
  for (const [label, at] of runs[5] ?? [])
    console.log(`  ${at.toFixed(1).padStart(7)} ms ${(at / rtt).toFixed(2).padStart(5)} RTT  ${label}`);
  client.close();
  // radarlib's client: the data connection is opened while MLSD goes out (src/ftp/connection.ts).
  const ours = new AsyncFTPClient({
    host: server.host,
    port: server.port,
    username: server.user,
    password: server.password,
    maxConnections: 1,
  });
  const ourTimes: number[] = [];
  for (let i = 0; i < 11; i++) {
    const t = performance.now();
    await ours.listDir('/a/b');
    if (i > 0) ourTimes.push(performance.now() - t); // (the first one logs in)
  }
  ourTimes.sort((a, b) => a - b);
  const median = ourTimes[5] ?? 0;
  console.log(`radarlib listDir median ${median.toFixed(1)} ms = ${(median / rtt).toFixed(2)} RTT`);
  await ours.disconnect();
  await server.stop();
} finally {
  wan('down');
}
