/**
 * Where a loopback mirror's time and CPU go (issue 15): the bench's 240-file set on proftpd over
 * loopback, radarlib's mirror child (`listFiles` + `downloadFiles`, compiled as bench/run.ts runs
 * it) beside lftp and rclone, each a whole process.
 *
 *   node --import tsx bench/profile-loopback.ts [--runs 5] [--volumes 40] [--mode time,strace,timeline,cpuprof,nosync]
 *                                              [--out DIR] [--node-flags='FLAGS;FLAGS'] [--compare DIR] [--gap MS]
 *
 * - `time`: wall and CPU (user+sys, /usr/bin/time) of each tool as a whole process (Node's
 *   start-up and module loading included), runs alternating, medians, CPU per MB and ratios to
 *   lftp / rclone of the same run; for radarlib also its in-process time and CPU (`listFiles`
 *   then `downloadFiles`, from the child's JSON: issue 15's way), a "load only" row (the child
 *   started without a request: Node plus radarlib's modules, nothing transferred), the share of
 *   the machine's CPU time that was busy during each run (/proc/stat, every process: the tool and
 *   the server), and a second table: the child's CPU by thread (main, V8's compiler/GC workers,
 *   libuv's file pool, other) and how long its main thread waited for a core, read from
 *   /proc/self/task at its exit by a module preloaded with `--import` (THREAD_PROBE).
 * - `strace`: `strace -f -c` of one run per tool: syscalls by name (counts and time).
 * - `timeline`: `strace -f -tt` of one radarlib 5 and one rclone 5 run: connections, greetings,
 *   listing and transfer spans, and each file's steps on its control connection
 *   (bench/lib/strace-timeline.ts).
 * - `cpuprof`: `node --cpu-prof` (100 µs) of --runs radarlib runs per width: mean self time by
 *   function and by origin (src file, basic-ftp, node module, GC, idle) from the start of
 *   `listFiles` on (start-up shown apart).
 * - `perf`: `perf record -e cpu-clock` of one radarlib run per width (CPU time, user space, JS
 *   named through --perf-basic-prof): self share by library and symbol.
 * - `--node-flags`: with `time`, radarlib run again under each set of Node/V8 flags (extra rows).
 * - `nosync`: radarlib under `eatmydata` (fsync/fdatasync become no-ops): what the durability
 *   promise costs, measured by taking it away (never how radarlib runs).
 * - `--compare DIR`: another checkout with node_modules (e.g. a worktree of main): its mirror
 *   child runs as `compare 1` / `compare 5` in the same rounds, beside this one's, for paired
 *   before/after rows (every mode that runs the radarlib children runs these too).
 * - `--gap MS` (default RUN_GAP_MS, bench/lib/setup.ts): the pause before each run, so that no
 *   tool pays ProFTPD's pause after the previous run's sessions; `--gap 0` measures as sessions
 *   5–9 did.
 *
 * Run under the bench lock (`flock /tmp/radarlib-bench.lock ...`): it measures wall time.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { makeRadarDataset } from '../test/helpers/dataset.js';
import { startDebianServer } from '../test/helpers/debian-servers.js';
import { countBufr, has, rcloneFtpRemote, RUN_GAP_MS } from './lib/setup.js';
import { straceTimeline } from './lib/strace-timeline.js';
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
  /** radarlib only: CPU s (all threads) over the same span. */
  inProcessCpuS?: number;
  /** Minor page faults of the whole process (/usr/bin/time %R). */
  minflt: number;
  /** Share (0–1) of the machine's CPU time that was busy (not idle or waiting for I/O) during the run. */
  busy: number;
  /** radarlib only: the child's CPU s by thread group, at its exit (THREAD_PROBE). */
  threads?: ThreadCpu;
  ok: boolean;
}

/** CPU seconds of a Node process by thread group (THREAD_PROBE's JSON). */
interface ThreadCpu {
  main: number;
  mainSys: number;
  /** s the main thread was runnable but waited for a core (schedstat's run-queue time). */
  mainWait: number;
  v8: number;
  libuv: number;
  libuvSys: number;
  other: number;
  count: number;
}
const THREAD_GROUPS = ['main', 'mainSys', 'mainWait', 'v8', 'libuv', 'libuvSys', 'other'] as const;

/**
 * Preloaded into the radarlib child (`node --import`): at exit, writes the CPU time of each of
 * its threads to $RADARLIB_THREAD_CPU. Node names all its threads "node", so they are told
 * apart by creation order (Node 20, checked with --v8-pool-size and UV_THREADPOOL_SIZE): the
 * main thread, the platform's delayed-task thread, --v8-pool-size (4) V8 workers (concurrent
 * compilation, concurrent marking/sweeping), the inspector's signal thread, then libuv's pool
 * (created on the first file operation or DNS lookup). Run time from schedstat (ns), and the
 * main thread's time waiting on a run queue (its second field); the system part of the main
 * thread and of the pool from stat (clock ticks: 10 ms steps).
 */
const THREAD_PROBE = `
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
const out = process.env.RADARLIB_THREAD_CPU;
const poolArg = process.execArgv.find((a) => a.startsWith('--v8-pool-size='));
const v8Pool = poolArg === undefined ? 4 : Number(poolArg.split('=')[1]);
process.on('exit', () => {
  if (out === undefined) return;
  const tids = readdirSync('/proc/self/task').map(Number).sort((a, b) => a - b);
  const sched = (t, k) => Number(readFileSync('/proc/self/task/' + t + '/schedstat', 'utf8').split(' ')[k]) / 1e9;
  const r = { main: 0, mainSys: 0, mainWait: 0, v8: 0, libuv: 0, libuvSys: 0, other: 0, count: tids.length };
  const sys = (t) => Number(readFileSync('/proc/self/task/' + t + '/stat', 'utf8').split(') ')[1].split(' ')[12]) / 100;
  tids.forEach((t, i) => {
    const s = sched(t, 0);
    if (i === 0) {
      r.main = s;
      r.mainSys = sys(t);
      r.mainWait = sched(t, 1);
    } else if (i >= 2 && i < 2 + v8Pool) r.v8 += s;
    else if (i >= 3 + v8Pool) {
      r.libuv += s;
      r.libuvSys += sys(t);
    } else r.other += s;
  });
  writeFileSync(out, JSON.stringify(r));
});
`;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? NaN;
};

function tools(srv: Server, mirrorJs: string, work: string, probe: string, compareJs?: string): Tool[] {
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
  const node = [process.execPath, '--import', pathToFileURL(probe).href];
  const list: Tool[] = [
    { name: 'radarlib 1', argv: (dest) => [...node, mirrorJs, req(dest, 1)] },
    { name: 'radarlib 5', argv: (dest) => [...node, mirrorJs, req(dest, 5)] },
  ];
  if (compareJs !== undefined)
    list.push(
      { name: 'compare 1', argv: (dest) => [...node, compareJs, req(dest, 1)] },
      { name: 'compare 5', argv: (dest) => [...node, compareJs, req(dest, 5)] },
    );
  if (has('lftp')) list.push({ name: 'lftp -P1', argv: lftp(1) }, { name: 'lftp -P5', argv: lftp(5) });
  if (has('rclone'))
    list.push({
      name: 'rclone 5',
      argv: (dest) => ['rclone', 'copy', `bench:${srv.remote}`, dest, '--transfers', '5'],
      env: rcloneFtpRemote(srv, work, false),
    });
  return list;
}

/** Milliseconds each run waits first (`--gap`). */
let gapMs = RUN_GAP_MS;

/** The machine's CPU time so far (/proc/stat's first line, clock ticks): all of it, and the idle part. */
function machineTicks(): { total: number; idle: number } {
  const ticks = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  // idle and iowait: no task wanted a CPU
  return { total: ticks.reduce((a, b) => a + b, 0), idle: (ticks[3] ?? 0) + (ticks[4] ?? 0) };
}

function runOnce(tool: Tool, dest: string, wrap: string[], expectBytes: number): Sample {
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, gapMs);
  const timeFile = `${dest}.time`;
  const threadFile = `${dest}.threads`;
  rmSync(threadFile, { force: true });
  const argv = ['/usr/bin/time', '-f', '%e %U %S %R', '-o', timeFile, ...wrap, ...tool.argv(dest)];
  const before = machineTicks();
  const r = spawnSync(argv[0] as string, argv.slice(1), {
    env: { ...process.env, ...tool.env, RADARLIB_THREAD_CPU: threadFile },
    encoding: 'utf8',
    timeout: 180_000,
  });
  const after = machineTicks();
  const [wall, user, sys, minflt] = readFileSync(timeFile, 'utf8')
    .trim()
    .split('\n')
    .pop()!
    .split(' ')
    .map(Number);
  const got = countBufr(dest);
  const ok = r.status === 0 && got.bytes === expectBytes;
  let inProcessS: number | undefined;
  let inProcessCpuS: number | undefined;
  let threads: ThreadCpu | undefined;
  try {
    const json = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as {
      wallMs?: unknown;
      cpuInProcessS?: unknown;
    };
    if (typeof json.wallMs === 'number') inProcessS = json.wallMs / 1000;
    if (typeof json.cpuInProcessS === 'number') inProcessCpuS = json.cpuInProcessS;
  } catch {
    // a peer's output, or none
  }
  try {
    threads = JSON.parse(readFileSync(threadFile, 'utf8')) as ThreadCpu;
  } catch {
    // not a Node child
  }
  if (!ok)
    console.error(`${tool.name}: rc=${r.status} bytes ${got.bytes}/${expectBytes} ${r.stderr.slice(-400)}`);
  rmSync(dest, { recursive: true, force: true });
  return {
    wallS: wall as number,
    cpuS: (user as number) + (sys as number),
    sysS: sys as number,
    minflt: minflt as number,
    busy: 1 - (after.idle - before.idle) / Math.max(1, after.total - before.total),
    ...(inProcessS === undefined ? {} : { inProcessS }),
    ...(inProcessCpuS === undefined ? {} : { inProcessCpuS }),
    ...(threads === undefined ? {} : { threads }),
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

interface ProfileSummary {
  /** ms before the mirror started (Node start-up, module loading), left out of the rest. */
  startupMs: number;
  byOrigin: [string, number][];
  byFunction: [string, number][];
}

/**
 * Self time of `.cpuprofile`s (their mean, ms) by origin and by function, counted from the first
 * sample inside bench/mirror.js's `mirror` (the in-process phase: listFiles + downloadFiles).
 */
function profileSummary(files: string[]): ProfileSummary {
  const byOrigin = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let startupMs = 0;
  const add = (m: Map<string, number>, k: string, ms: number): void => {
    m.set(k, (m.get(k) ?? 0) + ms / files.length);
  };
  const origin = (n: ProfileNode): string => {
    const { functionName: f, url } = n.callFrame;
    if (f === '(idle)' || f === '(program)' || f === '(garbage collector)') return f;
    if (url.includes('basic-ftp')) return 'basic-ftp';
    if (url.includes('radarlib-bench/src/')) return `src/${url.split('radarlib-bench/src/')[1]}`;
    if (url.includes('radarlib-bench/bench/')) return 'bench';
    if (url.includes('node_modules')) return 'other node_modules';
    // node:internal/streams/readable → node:streams, node:net → node:net
    if (url.startsWith('node:'))
      return `node:${
        url
          .slice(5)
          .replace(/^internal\//, '')
          .split('/')[0]
      }`;
    return url === '' ? '(native)' : 'other';
  };
  for (const file of files) {
    const prof = JSON.parse(readFileSync(file, 'utf8')) as {
      nodes: ProfileNode[];
      samples: number[];
      timeDeltas: number[];
    };
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const inMirror = (id: number): boolean => {
      for (let at: number | undefined = id, depth = 0; at !== undefined && depth < 1000; depth++) {
        const n = byId.get(at) as ProfileNode;
        if (n.callFrame.functionName === 'mirror' && n.callFrame.url.endsWith('bench/mirror.js')) return true;
        at = parent.get(at);
      }
      return false;
    };
    let started = false;
    prof.samples.forEach((id, i) => {
      const ms = (prof.timeDeltas[i] ?? 0) / 1000;
      started ||= inMirror(id);
      if (!started) {
        startupMs += ms / files.length;
        return;
      }
      const n = byId.get(id) as ProfileNode;
      add(byOrigin, origin(n), ms);
      const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules|radarlib-bench)\//, '')}`;
      add(byFunction, key, ms);
    });
  }
  const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]);
  return { startupMs, byOrigin: sorted(byOrigin), byFunction: sorted(byFunction).slice(0, 40) };
}

/**
 * `--mode timeline`: one `strace -f -tt` run of each 5-connection tool (connects, reads, writes
 * only), read by bench/lib/strace-timeline.ts: connections, greetings, listing and transfer
 * spans, and where each file's time on its control connection goes. strace slows every tool
 * (radarlib, with more system calls, more): compare shapes, not totals.
 */
function printTimelines(all: Tool[], port: number, dest: string, out: string, bytes: number): void {
  const f = (ms: number | null): string => (ms === null ? '–' : ms.toFixed(0));
  for (const t of all.filter((x) => / 5$/.test(x.name))) {
    const file = join(out, `timeline-${t.name.replace(/\W+/g, '_')}.txt`);
    runOnce(
      t,
      dest,
      ['strace', '-f', '-tt', '-s', '48', '-e', 'trace=connect,read,write', '-o', file],
      bytes,
    );
    const tl = straceTimeline(file, port);
    const m = tl.marks;
    const g = [...tl.greetingMs].sort((a, b) => a - b);
    console.log(
      `\ntimeline ${t.name} (ms from exec, under strace): ${tl.controlConnections} control connections (greeting ${f(g[0] ?? null)}–${f(g.at(-1) ?? null)} ms), ${tl.dataConnections} data connections; first connect ${f(m.firstConnect)}, first 220 ${f(m.firstGreeting)}, MLSD ${f(m.firstMlsd)}–${f(m.lastMlsd)}, RETR ${f(m.firstRetr)}–${f(m.lastRetr)}, last 226 ${f(m.last226)}, exit ${f(m.end)}`,
    );
    console.log('| step per file | n | sum ms | median ms | p90 ms |\n| --- | ---: | ---: | ---: | ---: |');
    for (const st of tl.steps)
      console.log(
        `| ${st.step} | ${st.n} | ${st.sumMs.toFixed(0)} | ${st.medianMs.toFixed(2)} | ${st.p90Ms.toFixed(2)} |`,
      );
  }
}

/** `--compare DIR`: that checkout's mirror child, compiled by its own bench/run.ts. */
async function compareChild(dir: string | undefined): Promise<string | undefined> {
  if (dir === undefined) return undefined;
  const run = (await import(pathToFileURL(join(dir, 'bench', 'run.ts')).href)) as {
    compileChildren(): Promise<{ mirror: string }>;
  };
  return (await run.compileChildren()).mirror;
}

/** The radarlib children (this checkout's and `--compare`'s), as opposed to the peers. */
const isRadarlib = (t: Tool): boolean => /^(radarlib|compare) /.test(t.name);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      volumes: { type: 'string', default: '40' },
      mode: { type: 'string', default: 'time,strace,cpuprof,nosync' },
      out: { type: 'string' },
      'node-flags': { type: 'string', default: '' },
      compare: { type: 'string' },
      gap: { type: 'string', default: String(RUN_GAP_MS) },
    },
  });
  gapMs = Number(values.gap);
  const modes = new Set(values.mode.split(','));
  const work = await mkdtemp(join(tmpdir(), 'radarlib-profile-'));
  chmodSync(work, 0o711);
  const out = values.out ?? join(work, 'out');
  mkdirSync(out, { recursive: true });
  const { mirror } = await compileChildren();
  const probe = join(work, 'thread-cpu.mjs');
  writeFileSync(probe, THREAD_PROBE);
  const files = await makeRadarDataset(join(work, 'data'), {
    volumes: Number(values.volumes),
    layout: 'tree',
  });
  const bytes = files.reduce((n, f) => n + f.size, 0);
  const mb = bytes / 1e6;
  const proftpd = await startDebianServer('proftpd', { root: join(work, 'data'), passivePorts: 100 });
  const srv: Server = { ...proftpd, remote: '/L2' };
  const all = tools(srv, mirror, work, probe, await compareChild(values.compare));
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
        for (const t of all.filter(isRadarlib))
          timed.push({ ...t, name: `${t.name} nosync`, argv: (d) => ['eatmydata', ...t.argv(d)] });
      // Node's start-up and the loading of radarlib's FTP modules alone: the mirror child run
      // without a request (it loads its imports and exits).
      const loadOnly: Tool = {
        name: 'radarlib load only',
        argv: () => [process.execPath, '--import', pathToFileURL(probe).href, mirror],
      };
      timed.push(loadOnly);
      // --node-flags='--single-threaded-gc;--max-semi-space-size=16': radarlib again with each
      // set of Node/V8 flags (sets split by ';'), as extra rows
      for (const flags of values['node-flags'].split(';').filter((f) => f.trim() !== ''))
        for (const t of all.filter(isRadarlib))
          timed.push({
            ...t,
            name: `${t.name} ${flags.trim()}`,
            argv: (d) => {
              const [node, ...rest] = t.argv(d);
              return [node as string, ...flags.trim().split(/\s+/), ...rest];
            },
          });
      const samples = new Map<string, Sample[]>();
      for (let r = 0; r < Number(values.runs); r++)
        for (const t of timed)
          samples.set(t.name, [
            ...(samples.get(t.name) ?? []),
            runOnce(t, dest, [], t === loadOnly ? 0 : bytes),
          ]);
      const med = (
        name: string,
        k: 'wallS' | 'cpuS' | 'sysS' | 'minflt' | 'busy' | 'inProcessS' | 'inProcessCpuS',
      ): number =>
        median(
          (samples.get(name) ?? []).filter((s) => s.ok && s[k] !== undefined).map((s) => s[k] as number),
        );
      const ratio = (x: number, y: number): string => (Number.isFinite(x / y) ? (x / y).toFixed(2) : '–');
      console.log(
        `\n| tool | process wall s (median of ${values.runs}) | CPU s | of which sys | CPU ms/MB | wall / rclone 5 | wall / lftp -P1 | CPU / lftp same width | in-process s (listFiles + downloadFiles) | in-process / rclone 5 | in-process / lftp -P1 | page faults | machine busy |`,
      );
      console.log(
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      );
      for (const t of timed) {
        const w = med(t.name, 'wallS');
        const c = med(t.name, 'cpuS');
        const inProc = med(t.name, 'inProcessS');
        const width = /5/.test(t.name) ? 'lftp -P5' : 'lftp -P1';
        console.log(
          `| ${t.name} | ${w.toFixed(2)} | ${c.toFixed(2)} | ${med(t.name, 'sysS').toFixed(2)} | ${((c * 1000) / mb).toFixed(1)} | ${ratio(w, med('rclone 5', 'wallS'))} | ${ratio(w, med('lftp -P1', 'wallS'))} | ${ratio(c, med(width, 'cpuS'))} | ${Number.isFinite(inProc) ? inProc.toFixed(2) : '–'} | ${ratio(inProc, med('rclone 5', 'wallS'))} | ${ratio(inProc, med('lftp -P1', 'wallS'))} | ${med(t.name, 'minflt').toFixed(0)} | ${(med(t.name, 'busy') * 100).toFixed(0)} % |`,
        );
      }
      const medThread = (name: string, k: (typeof THREAD_GROUPS)[number]): number =>
        median(
          (samples.get(name) ?? []).filter((s) => s.ok && s.threads !== undefined).map((s) => s.threads![k]),
        );
      console.log(
        '\n| radarlib (medians) | in-process CPU s | CPU s by thread: main | of which sys | main waited for a core s | V8 workers (compiler, GC) | libuv pool | of which sys | other | threads |',
      );
      console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
      for (const t of timed.filter(isRadarlib)) {
        const inCpu = med(t.name, 'inProcessCpuS');
        const count = median((samples.get(t.name) ?? []).map((s) => s.threads?.count ?? NaN));
        console.log(
          `| ${t.name} | ${Number.isFinite(inCpu) ? inCpu.toFixed(3) : '–'} | ${THREAD_GROUPS.map((k) => medThread(t.name, k).toFixed(3)).join(' | ')} | ${count} |`,
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
    if (modes.has('timeline') && has('strace')) printTimelines(all, srv.port, dest, out, bytes);
    if (modes.has('perf') && has('perf')) {
      // CPU-time samples (cpu-clock: only while on a CPU, unlike --cpu-prof's wall-clock ones,
      // which charge a thread preempted inside a syscall to that syscall); user space only at
      // perf_event_paranoid 2; JS frames named through --perf-basic-prof's /tmp/perf-PID.map
      for (const t of all.filter(isRadarlib)) {
        const file = join(out, `perf-${t.name.replace(/\W+/g, '_')}.data`);
        const [node, ...rest] = t.argv(dest);
        const perf = ['perf', 'record', '-q', '-g', '-e', 'cpu-clock', '-F', '20000', '-o', file];
        runOnce(
          { ...t, argv: () => [...perf, node as string, '--perf-basic-prof', ...rest] },
          dest,
          [],
          bytes,
        );
        const report = (args: string[]): string[] =>
          spawnSync('perf', ['report', '-i', file, '--stdio', ...args], {
            encoding: 'utf8',
            maxBuffer: 256 << 20,
          }).stdout.split('\n');
        const top = report(['--no-children', '-g', 'none', '--sort', 'dso,sym', '--percent-limit', '0.7']);
        console.log(`\nperf (cpu-clock) ${t.name} (${file}), self share by symbol:`);
        for (const l of top.filter((x) => /^\s+\d/.test(x)).slice(0, 30)) console.log(`  ${l.trim()}`);
        // inclusive share of each system call (kernel entry points in the call chains)
        const sys = report(['--children', '-g', 'none', '--sort', 'sym']).filter((x) =>
          /\[k\] __(x64|se)_sys_\w+/.test(x),
        );
        console.log('  system calls, inclusive share of all samples (children, self):');
        for (const l of sys.slice(0, 20)) console.log(`  ${l.trim()}`);
      }
    }
    if (modes.has('cpuprof')) {
      // sampled every 100 µs (Node's default, 1 ms, leaves too few samples per function); the
      // mean of --runs profiles per width
      for (const t of all.filter(isRadarlib)) {
        const dir = join(out, `cpuprof-${t.name.replace(/\W+/g, '_')}`);
        rmSync(dir, { recursive: true, force: true });
        const [node, ...rest] = t.argv(dest);
        const prof = [node as string, '--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', dir];
        for (let r = 0; r < Number(values.runs); r++)
          runOnce({ ...t, argv: () => [...prof, ...rest] }, dest, [], bytes);
        const files = readdirSync(dir)
          .filter((f) => f.endsWith('.cpuprofile'))
          .map((f) => join(dir, f));
        if (files.length === 0) continue;
        const p = profileSummary(files);
        console.log(
          `\ncpu profile ${t.name} (${files.length} in ${dir}), mean self ms after start-up (${p.startupMs.toFixed(0)} ms), by origin:`,
        );
        for (const [o, ms] of p.byOrigin) console.log(`  ${ms.toFixed(1).padStart(7)}  ${o}`);
        console.log('  top functions (self ms):');
        for (const [f, ms] of p.byFunction) console.log(`  ${ms.toFixed(1).padStart(7)}  ${f}`);
      }
    }
  } finally {
    await proftpd.stop();
    if (values.out === undefined) rmSync(work, { recursive: true, force: true });
    else rmSync(join(work, 'data'), { recursive: true, force: true });
  }
}

await main();
