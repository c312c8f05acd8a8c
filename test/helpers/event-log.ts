/**
 * The event file the daemon child fixtures append to (`DL <path>` per download, `CB <path>` per
 * callback), counted per path: how crash tests tell "exactly once" from "twice" or "never".
 */
import { existsSync, readFileSync } from 'node:fs';

export interface EventCounts {
  /** Downloads per remote path. */
  dl: Map<string, number>;
  /** Callbacks per remote path. */
  cb: Map<string, number>;
}

export function countEvents(file: string): EventCounts {
  const dl = new Map<string, number>();
  const cb = new Map<string, number>();
  if (!existsSync(file)) return { dl, cb };
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    const [kind, path] = l.split(' ');
    if (path === undefined) continue;
    const m = kind === 'DL' ? dl : cb;
    m.set(path, (m.get(path) ?? 0) + 1);
  }
  return { dl, cb };
}
