/**
 * Folders asked for in the same turn (a walk asks for a folder's sub-folders in one loop) go out
 * in groups, each group's STATs in one write on one connection (control-listing.ts
 * `statFolders`): one round trip for the group. Without it each folder takes a connection of its
 * own, and on a link of 50 ms a level of 40 minute folders over 5 connections takes 8 round
 * trips, where grouped it takes one; while a walk's other connections are still logging in
 * (FTPS: each login some round trips longer), the one connection already in use lists them all
 * at once instead of one after the other.
 */

/** How many folders go in one write at most (their replies come one after the other). */
export const MAX_FOLDERS_PER_WRITE = 8;

interface Pending<R> {
  path: string;
  signal: AbortSignal | undefined;
  resolve(result: R): void;
  reject(err: unknown): void;
}

/**
 * Collects the folders asked for in one turn of the event loop and runs them in groups: as many
 * groups as `width()` (connections free now; at least one), more when a group would exceed
 * MAX_FOLDERS_PER_WRITE. Folders with different signals never share a group. `run` gets a
 * group's paths and resolves with one result per path, in order; its failure fails the group.
 */
export class StatBatcher<R> {
  #pending: Pending<R>[] = [];
  readonly #run: (paths: string[], signal: AbortSignal | undefined) => Promise<R[]>;
  readonly #width: () => number;

  constructor(run: (paths: string[], signal: AbortSignal | undefined) => Promise<R[]>, width: () => number) {
    this.#run = run;
    this.#width = width;
  }

  stat(path: string, signal: AbortSignal | undefined): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.#pending.push({ path, signal, resolve, reject }) === 1) queueMicrotask(() => this.#flush());
    });
  }

  #flush(): void {
    const all = this.#pending;
    this.#pending = [];
    const bySignal = new Map<AbortSignal | undefined, Pending<R>[]>();
    for (const p of all) {
      const items = bySignal.get(p.signal);
      if (items === undefined) bySignal.set(p.signal, [p]);
      else items.push(p);
    }
    for (const [signal, items] of bySignal) {
      for (const group of split(items, Math.max(1, this.#width()))) this.#runGroup(group, signal);
    }
  }

  #runGroup(group: Pending<R>[], signal: AbortSignal | undefined): void {
    this.#run(
      group.map((p) => p.path),
      signal,
    ).then(
      (results) => {
        for (const [i, p] of group.entries()) {
          const result = results[i];
          if (result === undefined) p.reject(new Error(`no STAT result for ${p.path}`));
          else p.resolve(result);
        }
      },
      (err: unknown) => {
        for (const p of group) p.reject(err);
      },
    );
  }
}

/** `items` in consecutive groups of near-equal size: `width` groups, more if one would be too large. */
function split<T>(items: readonly T[], width: number): T[][] {
  const count = Math.min(items.length, Math.max(width, Math.ceil(items.length / MAX_FOLDERS_PER_WRITE)));
  const groups: T[][] = [];
  for (let g = 0, from = 0; g < count; g++) {
    const size = Math.ceil((items.length - from) / (count - g));
    groups.push(items.slice(from, from + size));
    from += size;
  }
  return groups;
}
