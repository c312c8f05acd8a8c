/**
 * Where a loopback mirror's time and CPU go (issue 15): the bench's 240-file set on proftpd over
 * loopback, radarlib's mirror child (`listFiles` + `downloadFiles`, compiled as bench/run.ts runs
 * it) beside lftp and rclone, each a whole process.
 *
 *   node --import tsx bench/profile-loopback.ts [--runs 5] [--volumes 40] [--mode time,strace,cpuprof,nosync]
 *                                              [--out DIR]
 *
 * - `time`: wall and CPU (user+sys, /usr/bin/time) of each tool as a whole process (Node's
 *   start-up and module loading included), runs alternating, medians, CPU per MB and ratios to
 *   lftp / rclone of the same run; for radarlib also its in-process time (`listFiles` then
 *   `downloadFiles`, from the child's JSON: issue 15's way) and a "load only" row (the child
 *   started without a request: Node plus radarlib's modules, nothing transferred).
 * - `strace`: `strace -f -c` of one run per tool: syscalls by name (counts and time).
 * - `cpuprof`: `node --cpu-prof` of one radarlib run per width: self time by function and by
 *   origin (src, basic-ftp, node internals, GC, idle).
 * - `nosync`: radarlib under `eatmydata` (fsync/fdatasync become no-ops): what the durability
 *   promise costs, measured by taking it away (never how radarlib runs).
 *
 * Run under the bench lock (`flock /tmp/radarlib-bench.lock ...`): it measures wall time.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeRadarDataset } from '../test/helpers/dataset.js';
import { startDebianServer } from '../test/helpers/debian-servers.js';
import { countBufr, has, rcloneFtpRemote } from './lib/setup.js';
import type { MirrorRequest } from './mirror.js';
import { compileChildren } from './run.js';

interface Server {
  host: string;
  port: number;
  user: string;
  password: string;
  remote: string;
}

interface Tool {
  name: string;
  argv: (dest: string) => string[];
  env?: NodeJS.ProcessEnv;
}

interface Sample {
  wallS: number;
  cpuS: number;
  sysS: number;
  /** radarlib only: `listFiles` + `downloadFiles` timed inside the process (the issue's way). */
  inProcessS?: number;
  ok: boolean;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? NaN;
};

function tools(srv: Server, mirrorJs: string, work: string): Tool[] {
  const req = (dest: string, concurrency: number): string =>
    JSON.stringify({
      ...srv,
      dest,
      concurrency,
      listing: 'list',
    } satisfies MirrorRequest);
  const lftp = (parallel: number) => (dest: string) => [
    'lftp',
    '-u',
    `${srv.user},${srv.password}`,
    '-p',
    String(srv.port),
    '-e',
    `set ftp:ssl-allow no; set cmd:fail-exit yes; mirror --parallel=${parallel} --no-perms ${srv.remote} ${dest}; quit`,
    srv.host,
  ];
  const list: Tool[] = [
    { name: 'radarlib 1', argv: (dest) => [process.execPath, mirrorJs, req(dest, 1)] },
    { name: 'radarlib 5', argv: (dest) => [process.execPath, mirrorJs, req(dest, 5)] },
  ];
  if (has('lftp')) list.push({ name: 'lftp -P1', argv: lftp(1) }, { name: 'lftp -P5', argv: lftp(5) });
  if (has('rclone'))
    list.push({
      name: 'rclone 5',
      argv: (dest) => ['rclone', 'copy', `bench:${srv.remote}`, dest, '--transfers', '5'],
      env: rcloneFtpRemote(srv, work, false),
    });
  return list;
}

function runOnce(tool: Tool, dest: string, wrap: string[], expectBytes: number): Sample {
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  const timeFile = `${dest}.time`;
  const argv = ['/usr/bin/time', '-f', '%e %U %S', '-o', timeFile, ...wrap, ...tool.argv(dest)];
  const r = spawnSync(argv[0] as string, argv.slice(1), {
    env: { ...process.env, ...tool.env },
    encoding: 'utf8',
    timeout: 180_000,
  });
  const [wall, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  const got = countBufr(dest);
  const ok = r.status === 0 && got.bytes === expectBytes;
  let inProcessS: number | undefined;
  try {
    const wallMs = (JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { wallMs?: unknown }).wallMs;
    if (typeof wallMs === 'number') inProcessS = wallMs / 1000;
  } catch {
    // a peer's output, or none
  }
  if (!ok)
    console.error(`${tool.name}: rc=${r.status} bytes ${got.bytes}/${expectBytes} ${r.stderr.slice(-400)}`);
  rmSync(dest, { recursive: true, force: true });
  return {
    wallS: wall as number,
    cpuS: (user as number) + (sys as number),
    sysS: sys as number,
    ...(inProcessS === undefined ? {} : { inProcessS }),
    ok,
  };
}

/** `strace -c` summary lines: name → {calls, seconds}. */
function straceSummary(file: string): { total: number; rows: [string, number, number][] } {
  const rows: [string, number, number][] = [];
  let total = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*[\d.]+\s+([\d.]+)\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$/.exec(line);
    if (m === null) continue;
    if (m[3] === 'total') total = Number(m[2]);
    else rows.push([m[3] as string, Number(m[2]), Number(m[1])]);
  }
  rows.sort((a, b) => b[1] - a[1]);
  return { total, rows };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

/** Self time of a `.cpuprofile` by origin and by function (ms). */
function profileSummary(file: string): { byOrigin: [string, number][]; byFunction: [string, number][] } {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0) / 1000));
  const origin = (n: ProfileNode): string => {
    const { functionName: f, url } = n.callFrame;
    if (f === '(idle)' || f === '(program)' || f === '(garbage collector)') return f;
    if (url.includes('basic-ftp')) return 'basic-ftp';
    if (url.includes('radarlib-bench/src/')) return `src/${url.split('radarlib-bench/src/')[1]}`;
    if (url.includes('node_modules')) return 'other node_modules';
    if (url.startsWith('node:')) return 'node internals';
    return url === '' ? '(native)' : 'other';
  };
  const byOrigin = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, ms] of self) {
    const n = byId.get(id) as ProfileNode;
    const o = origin(n);
    byOrigin.set(o, (byOrigin.get(o) ?? 0) + ms);
    const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules|radarlib-bench)\//, '')}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]);
  return { byOrigin: sorted(byOrigin), byFunction: sorted(byFunction).slice(0, 25) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      volumes: { type: 'string', default: '40' },
      mode: { type: 'string', default: 'time,strace,cpuprof,nosync' },
      out: { type: 'string' },
    },
  });
  const modes = new Set(values.mode.split(','));
  const work = await mkdtemp(join(tmpdir(), 'radarlib-profile-'));
  chmodSync(work, 0o711);
  const out = values.out ?? join(work, 'out');
  mkdirSync(out, { recursive: true });
  const { mirror } = await compileChildren();
  const files = await makeRadarDataset(join(work, 'data'), {
    volumes: Number(values.volumes),
    layout: 'tree',
  });
  const bytes = files.reduce((n, f) => n + f.size, 0);
  const mb = bytes / 1e6;
  const proftpd = await startDebianServer('proftpd', { root: join(work, 'data'), passivePorts: 100 });
  const srv: Server = { ...proftpd, remote: '/L2' };
  const all = tools(srv, mirror, work);
  const dest = join(work, 'dest');
  console.log(
    `# ${files.length} files, ${mb.toFixed(1)} MB, proftpd ${srv.host}:${srv.port}, load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  try {
    if (modes.has('time') || modes.has('nosync')) {
      const timed = [...all];
      if (modes.has('nosync') && has('eatmydata'))
        for (const t of all.filter((x) => x.name.startsWith('radarlib')))
          timed.push({ ...t, name: `${t.name} nosync`, argv: (d) => ['eatmydata', ...t.argv(d)] });
      // Node's start-up and the loading of radarlib's FTP modules alone: the mirror child run
      // without a request (it loads its imports and exits).
      const loadOnly: Tool = { name: 'radarlib load only', argv: () => [process.execPath, mirror] };
      timed.push(loadOnly);
      const samples = new Map<string, Sample[]>();
      for (let r = 0; r < Number(values.runs); r++)
        for (const t of timed)
          samples.set(t.name, [
            ...(samples.get(t.name) ?? []),
            runOnce(t, dest, [], t === loadOnly ? 0 : bytes),
          ]);
      const med = (name: string, k: 'wallS' | 'cpuS' | 'sysS' | 'inProcessS'): number =>
        median(
          (samples.get(name) ?? []).filter((s) => s.ok && s[k] !== undefined).map((s) => s[k] as number),
        );
      const ratio = (x: number, y: number): string => (Number.isFinite(x / y) ? (x / y).toFixed(2) : '–');
      console.log(
        `\n| tool | process wall s (median of ${values.runs}) | CPU s | of which sys | CPU ms/MB | wall / rclone 5 | wall / lftp -P1 | CPU / lftp same width | in-process s (listFiles + downloadFiles) | in-process / rclone 5 | in-process / lftp -P1 |`,
      );
      console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
      for (const t of timed) {
        const w = med(t.name, 'wallS');
        const c = med(t.name, 'cpuS');
        const inProc = med(t.name, 'inProcessS');
        const width = /5/.test(t.name) ? 'lftp -P5' : 'lftp -P1';
        console.log(
          `| ${t.name} | ${w.toFixed(2)} | ${c.toFixed(2)} | ${med(t.name, 'sysS').toFixed(2)} | ${((c * 1000) / mb).toFixed(1)} | ${ratio(w, med('rclone 5', 'wallS'))} | ${ratio(w, med('lftp -P1', 'wallS'))} | ${ratio(c, med(width, 'cpuS'))} | ${Number.isFinite(inProc) ? inProc.toFixed(2) : '–'} | ${ratio(inProc, med('rclone 5', 'wallS'))} | ${ratio(inProc, med('lftp -P1', 'wallS'))} |`,
        );
      }
      console.log(
        `load after: ${loadavg()
          .map((x) => x.toFixed(2))
          .join(' ')}`,
      );
    }
    if (modes.has('strace') && has('strace')) {
      for (const t of all) {
        const file = join(out, `strace-${t.name.replace(/\W+/g, '_')}.txt`);
        runOnce(t, dest, ['strace', '-f', '-c', '-o', file], bytes);
        const s = straceSummary(file);
        console.log(
          `\nstrace -f -c ${t.name}: ${s.total} syscalls; ${s.rows
            .slice(0, 12)
            .map(([n, c, sec]) => `${n} ${c} (${sec.toFixed(3)} s)`)
            .join(', ')}`,
        );
      }
    }
    if (modes.has('cpuprof')) {
      for (const t of all.filter((x) => x.name.startsWith('radarlib'))) {
        const dir = join(out, `cpuprof-${t.name.replace(/\W+/g, '_')}`);
        rmSync(dir, { recursive: true, force: true });
        const [node, ...rest] = t.argv(dest);
        runOnce(
          { ...t, argv: () => [node as string, '--cpu-prof', '--cpu-prof-dir', dir, ...rest] },
          dest,
          [],
          bytes,
        );
        const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
        if (file === undefined) continue;
        const p = profileSummary(join(dir, file));
        console.log(`\ncpu profile ${t.name} (${join(dir, file)}), self ms by origin:`);
        for (const [o, ms] of p.byOrigin) console.log(`  ${ms.toFixed(0).padStart(6)}  ${o}`);
        console.log('  top functions (self ms):');
        for (const [f, ms] of p.byFunction) console.log(`  ${ms.toFixed(0).padStart(6)}  ${f}`);
      }
    }
  } finally {
    await proftpd.stop();
    if (values.out === undefined) rmSync(work, { recursive: true, force: true });
    else rmSync(join(work, 'data'), { recursive: true, force: true });
  }
}

await main();
