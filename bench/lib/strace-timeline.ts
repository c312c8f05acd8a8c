/**
 * An FTP client's timeline from `strace -f -tt -e trace=connect,read,write` of the client
 * (bench/profile-loopback.ts `--mode timeline`): when its control connections were opened and
 * greeted, when the listing ran, when the transfers ran, and how each file's time on its control
 * connection splits (EPSV → 229 → RETR → 150 → 226 → the next EPSV). Works for any client that
 * writes one command per `write` and reads replies with `read` (radarlib, rclone, lftp).
 */
import { readFileSync } from 'node:fs';

interface Event {
  /** ms from the first line of the trace (the client's exec). */
  at: number;
  kind: 'connect' | 'cmd' | 'reply';
  fd: string;
  /** connect: the port; cmd: the verb; reply: the code. */
  what: string;
}

export interface Timeline {
  controlConnections: number;
  dataConnections: number;
  /** Per control connection: connect → 220 (ms). */
  greetingMs: number[];
  /** ms from exec: first/last of each mark (null when absent). */
  marks: Record<
    | 'firstConnect'
    | 'firstGreeting'
    | 'firstMlsd'
    | 'lastMlsd'
    | 'firstRetr'
    | 'lastRetr'
    | 'last226'
    | 'end',
    number | null
  >;
  /** Per file, on its control connection: each step's sum, median and 90th percentile (ms). */
  steps: { step: string; n: number; sumMs: number; medianMs: number; p90Ms: number }[];
}

const LINE = /^(\d+)\s+(\d+):(\d+):([\d.]+) (.*)$/;

function parse(file: string): { events: Event[]; endMs: number } {
  const events: Event[] = [];
  const pending = new Map<string, string>();
  let t0: number | undefined;
  let last = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = LINE.exec(line);
    if (m === null) continue;
    const [, pid, h, min, s] = m as unknown as [string, string, string, string, string];
    let rest = m[5] as string;
    const t = (Number(h) * 3600 + Number(min) * 60 + Number(s)) * 1000;
    t0 ??= t;
    last = t - t0;
    if (rest.endsWith('<unfinished ...>')) {
      pending.set(pid, rest.slice(0, -' <unfinished ...>'.length));
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(rest);
    if (resumed !== null && pending.has(pid)) {
      rest = (pending.get(pid) as string) + (resumed[1] as string);
      pending.delete(pid);
    }
    const at = t - t0;
    let e = /^connect\((\d+), .*htons\((\d+)\)/.exec(rest);
    if (e !== null) events.push({ at, kind: 'connect', fd: e[1] as string, what: e[2] as string });
    e = /^write\((\d+), "([A-Z]{3,4})[ \\]/.exec(rest);
    if (e !== null) events.push({ at, kind: 'cmd', fd: e[1] as string, what: e[2] as string });
    e = /^read\((\d+), "(\d{3})[ -]/.exec(rest);
    if (e !== null) events.push({ at, kind: 'reply', fd: e[1] as string, what: e[2] as string });
  }
  return { events, endMs: last };
}

const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

/** The timeline of one traced run; `controlPort`: the server's control port. */
export function straceTimeline(file: string, controlPort: number): Timeline {
  const { events, endMs } = parse(file);
  const first = (kind: Event['kind'], what?: string): number | null =>
    events.find((e) => e.kind === kind && (what === undefined || e.what === what))?.at ?? null;
  const lastOf = (kind: Event['kind'], what: string): number | null =>
    events.findLast((e) => e.kind === kind && e.what === what)?.at ?? null;
  const connects = events.filter((e) => e.kind === 'connect');
  const control = connects.filter((e) => e.what === String(controlPort));
  const greetingMs = control.flatMap((c) => {
    const g = events.find((e) => e.kind === 'reply' && e.fd === c.fd && e.what === '220' && e.at >= c.at);
    return g === undefined ? [] : [g.at - c.at];
  });
  const steps = new Map<string, number[]>();
  const add = (step: string, ms: number): void =>
    void (steps.get(step) ?? steps.set(step, []).get(step))?.push(ms);
  const byFd = new Map<string, Event[]>();
  for (const e of events) if (e.kind !== 'connect') (byFd.get(e.fd) ?? byFd.set(e.fd, []).get(e.fd))?.push(e);
  for (const list of byFd.values()) {
    let cur: Record<string, number> = {};
    let prev226: number | undefined;
    for (const e of list) {
      const key = `${e.kind} ${e.what}`;
      if (key === 'cmd EPSV' || key === 'cmd PASV') cur = { epsv: e.at };
      else if ((key === 'reply 229' || key === 'reply 227') && cur['epsv'] !== undefined) cur['229'] = e.at;
      else if (key === 'cmd RETR') cur['retr'] = e.at;
      else if (key === 'reply 150' && cur['retr'] !== undefined) cur['150'] = e.at;
      else if (
        key === 'reply 226' &&
        cur['retr'] !== undefined &&
        cur['150'] !== undefined &&
        cur['229'] !== undefined
      ) {
        const { epsv, retr } = cur as Record<'epsv' | 'retr' | '229' | '150', number>;
        if (prev226 !== undefined) add('226 → next EPSV (client)', (epsv as number) - prev226);
        add('EPSV → 229 (server)', (cur['229'] as number) - (epsv as number));
        add('229 → RETR (client: data connect)', (retr as number) - (cur['229'] as number));
        add('RETR → 150 (server)', (cur['150'] as number) - (retr as number));
        add('150 → 226 (data)', e.at - (cur['150'] as number));
        prev226 = e.at;
        cur = {};
      }
    }
  }
  return {
    controlConnections: control.length,
    dataConnections: connects.length - control.length,
    greetingMs,
    marks: {
      firstConnect: control[0]?.at ?? null,
      firstGreeting: first('reply', '220'),
      firstMlsd: first('cmd', 'MLSD'),
      lastMlsd: lastOf('cmd', 'MLSD'),
      firstRetr: first('cmd', 'RETR'),
      lastRetr: lastOf('cmd', 'RETR'),
      last226: lastOf('reply', '226'),
      end: endMs,
    },
    steps: [...steps].map(([step, v]) => {
      const s = [...v].sort((a, b) => a - b);
      return {
        step,
        n: s.length,
        sumMs: s.reduce((a, b) => a + b, 0),
        medianMs: pct(s, 0.5),
        p90Ms: pct(s, 0.9),
      };
    }),
  };
}
