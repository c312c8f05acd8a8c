/**
 * SFTP mirror benchmark: radarlib's AsyncSFTPClient beside lftp (sftp://) and rclone (sftp
 * backend), same OpenSSH server, same 240-file radar date tree (~110 MB), same parallelism.
 *
 *   flock /tmp/radarlib-bench.lock node --import tsx bench/sftp.ts [--loopback] [--runs N]
 *
 * By default the server (Debian's sshd, chrooted internal-sftp: test/helpers/openssh-server.ts)
 * runs inside the emulated WAN namespace of bench/wan/wan.sh (50 ms RTT, 100 Mbit/s); with
 * `--loopback` it runs on 127.0.0.1. Every tool authenticates with the same unencrypted ed25519
 * key and checks the host key against the same known_hosts. Each run starts from an empty folder;
 * the files are checked (count and bytes) after each run. radarlib runs in a child process, as the
 * peers do, with 5 transfers over 5 connections (one channel each) and over 1 connection
 * (5 channels), which answers "channels or connections" on this link.
 *
 * Writes bench/results/sftp.json and prints a Markdown table (docs/PERFORMANCE.md "SFTP").
 * Needs root (namespace, sshd), lftp and rclone; missing peers are reported, not faked.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeRadarDataset } from '../test/helpers/dataset.js';
import { startOpenSsh } from '../test/helpers/openssh-server.js';
import { countBufr, REPO, RESULTS, wan, WAN_HOST, WAN_NS } from './lib/setup.js';

const SSH_PORT = 2222;
const PARALLEL = 5;
const RUN_TIMEOUT_S = 600;

interface Target {
  host: string;
  port: number;
  user: string;
  key: string;
  knownHosts: string;
}

interface Run {
  tool: string;
  parallel: number;
  wallS: number;
  ok: boolean;
  note: string | null;
}

function timed(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ wallS: number; rc: number | null; err: string }> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(argv[0] as string, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_S * 1000);
    child.on('close', (rc) => {
      clearTimeout(timer);
      resolve({ wallS: Number(process.hrtime.bigint() - start) / 1e9, rc, err });
    });
  });
}

const ssh = (t: Target): string =>
  `ssh -a -x -i ${t.key} -o UserKnownHostsFile=${t.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes`;

function lftpArgv(t: Target, dest: string): string[] {
  const script = [
    `set sftp:connect-program "${ssh(t)}"`,
    'set net:max-retries 2',
    `mirror --parallel=${PARALLEL} /L2 ${dest}`,
    'quit',
  ].join('; ');
  return ['lftp', '-u', `${t.user},`, '-p', String(t.port), '-e', script, `sftp://${t.host}`];
}

function rcloneArgv(t: Target, dest: string): string[] {
  return [
    'rclone',
    'copy',
    ':sftp:/L2',
    dest,
    '--sftp-host',
    t.host,
    '--sftp-port',
    String(t.port),
    '--sftp-user',
    t.user,
    '--sftp-key-file',
    t.key,
    '--sftp-known-hosts-file',
    t.knownHosts,
    '--sftp-shell-type',
    'none',
    '--sftp-disable-hashcheck',
    '--transfers',
    String(PARALLEL),
    '--checkers',
    String(PARALLEL),
    '--config',
    '/dev/null',
  ];
}

/** The radarlib child: walk + download, as `radarlib get -r` does. */
const CHILD = `
import { AsyncSFTPClient } from '${join(REPO, 'src/sftp/index.ts')}';
const [host, port, user, key, knownHosts, dest, channels] = process.argv.slice(2);
const cpc = Number(channels);
const client = new AsyncSFTPClient({
  host, port: Number(port), username: user, privateKeyFile: key, knownHosts,
  channelsPerConnection: cpc, maxConnections: Math.ceil(${PARALLEL} / cpc),
});
const r = await client.downloadFiles(client.walkEntries('/L2', { recursive: true }), dest, { maxConcurrent: ${PARALLEL} });
await client.disconnect();
if (r.failures.length > 0) { console.error(r.failures.map((f) => f.error.message).join('\\n')); process.exit(1); }
`;

function wanOrThrow(action: 'up' | 'down'): void {
  const r = wan(action);
  if (!r.ok) throw new Error(`wan.sh ${action}: ${r.out}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { loopback: { type: 'boolean' }, runs: { type: 'string', default: '1' } },
  });
  const loopback = values.loopback === true;
  const runs = Number(values.runs);
  if (!loopback) wanOrThrow('up');
  const sshd = await startOpenSsh(
    loopback
      ? { keyPassphrase: '' }
      : { netns: WAN_NS, listenHost: WAN_HOST, port: SSH_PORT, keyPassphrase: '' },
  );
  const work = join(RESULTS, 'sftp-work');
  try {
    const files = await makeRadarDataset(sshd.root, { volumes: 40, layout: 'tree' });
    const expect = { files: files.length, bytes: files.reduce((n, f) => n + f.size, 0) };
    console.error(
      `data set: ${expect.files} files, ${(expect.bytes / 1e6).toFixed(1)} MB; sshd ${sshd.host}:${sshd.port}`,
    );
    const t: Target = {
      host: sshd.host,
      port: sshd.port,
      user: sshd.username,
      key: sshd.privateKeyFile,
      knownHosts: sshd.knownHosts,
    };
    mkdirSync(work, { recursive: true });
    const childFile = join(work, 'radarlib-child.ts');
    writeFileSync(childFile, CHILD);
    const radarlib = (channelsPerConnection: number) => (dest: string) => [
      process.execPath,
      '--import',
      'tsx',
      childFile,
      t.host,
      String(t.port),
      t.user,
      t.key,
      t.knownHosts,
      dest,
      String(channelsPerConnection),
    ];
    const tools: { name: string; argv: (dest: string) => string[] }[] = [
      { name: `radarlib maxConcurrent ${PARALLEL} (${PARALLEL} connections)`, argv: radarlib(1) },
      {
        name: `radarlib maxConcurrent ${PARALLEL} (1 connection, ${PARALLEL} channels)`,
        argv: radarlib(PARALLEL),
      },
      { name: `lftp mirror --parallel=${PARALLEL}`, argv: (d) => lftpArgv(t, d) },
      { name: `rclone copy --transfers ${PARALLEL}`, argv: (d) => rcloneArgv(t, d) },
    ];
    const results: Run[] = [];
    for (let i = 0; i < runs; i++) {
      for (const tool of tools) {
        const dest = join(work, 'dest');
        rmSync(dest, { recursive: true, force: true });
        mkdirSync(dest, { recursive: true });
        const r = await timed(tool.argv(dest));
        const got = countBufr(dest);
        const ok = r.rc === 0 && got.files === expect.files && got.bytes === expect.bytes;
        const note = ok
          ? null
          : `rc=${r.rc} files=${got.files}/${expect.files}: ${r.err.trim().split('\n').slice(0, 3).join(' ')}`;
        results.push({ tool: tool.name, parallel: PARALLEL, wallS: r.wallS, ok, note });
        console.error(`${tool.name}: ${r.wallS.toFixed(2)} s ${ok ? 'ok' : note}`);
      }
    }
    // Best of the runs per tool; ratio to the faster peer at the same parallelism.
    const best = new Map<string, Run>();
    for (const r of results) {
      const b = best.get(r.tool);
      if (r.ok && (b === undefined || !b.ok || r.wallS < b.wallS)) best.set(r.tool, r);
      else if (b === undefined) best.set(r.tool, r);
    }
    const peers = [...best.values()].filter((r) => r.ok && !r.tool.startsWith('radarlib'));
    const fastestPeer = peers.length === 0 ? null : Math.min(...peers.map((r) => r.wallS));
    const link = loopback ? 'loopback' : 'WAN 50 ms / 100 Mbit/s';
    const lines = [
      `SFTP mirror, ${expect.files} files, ${(expect.bytes / 1e6).toFixed(1)} MB, OpenSSH sshd, ${link}, best of ${runs}:`,
      '',
      '| tool | wall s | MB/s | ratio to the faster peer | ok |',
      '|---|---:|---:|---:|---|',
      ...[...best.values()].map(
        (r) =>
          `| ${r.tool} | ${r.wallS.toFixed(2)} | ${(expect.bytes / 1e6 / r.wallS).toFixed(1)} | ${fastestPeer === null ? '–' : (r.wallS / fastestPeer).toFixed(2)} | ${r.ok ? 'yes' : `no: ${r.note ?? ''}`} |`,
      ),
    ];
    const out = join(RESULTS, loopback ? 'sftp-loopback.json' : 'sftp.json');
    writeFileSync(out, `${JSON.stringify({ link, dataset: expect, runs: results }, null, 2)}\n`);
    console.log(lines.join('\n'));
  } finally {
    await sshd.stop();
    rmSync(work, { recursive: true, force: true });
    if (!loopback) wanOrThrow('down');
  }
}

await main();
