/**
 * A TypeScript script run as a child process (`node --import tsx script`), for tests that kill,
 * restart or signal a daemon: its exit, the tail of its stderr, and its stdout lines on demand.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface TsxChild {
  proc: ChildProcess;
  /** Resolves with the first stdout line starting with `prefix`; rejects if the child exits first. */
  line(prefix: string): Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last `stderrKeep` characters the child wrote to stderr. */
  stderr(): string;
}

export function startTsxChild(script: string, env: Record<string, string>, stderrKeep = 20_000): TsxChild {
  const proc = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (c: string) => {
    err = (err + c).slice(-stderrKeep);
  });
  const waiters: { prefix: string; resolve: (l: string) => void }[] = [];
  // Always read stdout, so a chatty child never blocks on a full pipe.
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    for (const w of [...waiters]) {
      if (l.startsWith(w.prefix)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    line: (prefix) =>
      Promise.race([
        new Promise<string>((resolve) => waiters.push({ prefix, resolve })),
        exit.then(({ code }) => {
          throw new Error(`child exited (${code}) before printing ${prefix}: ${err.slice(-3000)}`);
        }),
      ]),
    exit,
    stderr: () => err,
  };
}
