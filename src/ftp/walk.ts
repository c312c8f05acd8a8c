/**
 * Pattern listing over any `listDir` (FTP or SFTP): the sorted `listEntries` and the streaming
 * `walkEntries` of both clients, written once. Sub-folders are listed in parallel (the client's
 * pool bounds how many at once) and the walk stops descending at `MAX_WALK_DEPTH`.
 */
import { makeMatcher, type DirEntry } from './listing.js';
import { joinRemote } from './safe-name.js';
import type { ListOptions, RemoteEntry, SignalOption } from './types.js';

/**
 * One folder's entries. `onDataEnd`, when the client can: the same entries as soon as they have
 * arrived, before the server confirmed the listing (FTP: listing.ts listFolder), to start the
 * sub-folders' listings a round trip earlier. `exactFor`, when given: the client may list this
 * folder quickly with coarser times (FTP: STAT on the control connection, control-listing.ts;
 * LIST's times: minutes, the server's zone), but if an entry passes `exactFor` it lists the
 * folder again as exactly as it can and returns that.
 */
export type ListDir = (
  path: string,
  options: SignalOption,
  onDataEnd?: (entries: DirEntry[]) => void,
  exactFor?: (entry: DirEntry) => boolean,
) => Promise<DirEntry[]>;

export const DEFAULT_PATTERN = '*.BUFR';
/** A recursive walk stops descending here: a server with a symlink loop must not keep us busy. */
export const MAX_WALK_DEPTH = 32;

function rootOf(path: string): string {
  return path.replace(/\/+$/, '') || '/';
}

/** A listing entry as `RemoteEntry`, keeping what the daemon needs to read its time. */
function toRemoteEntry(e: DirEntry): RemoteEntry {
  // One object literal (no spread): a 200,000-entry walk keeps every entry alive at once.
  return {
    path: e.path,
    name: e.name,
    size: e.size,
    modifiedAt: e.modifiedAt,
    modifiedAtPrecisionMs: e.modifiedAtPrecisionMs,
    modifiedAtInServerZone: e.modifiedAtInServerZone,
  };
}

/**
 * Which listings of a walk may be quick (see ListDir `exactFor`). `names`: all of them (the
 * caller keeps only paths and sizes: `listFiles`). `entries`: the files handed out need their
 * exact times, so a folder with matching files is listed exactly, and once one was found, every
 * folder at that depth is listed exactly at once (in a date tree the files are all at one depth;
 * the levels above it stay quick).
 */
export type WalkNeeds = 'names' | 'entries';

/**
 * Lists `path` (and its sub-folders when `recursive`) and calls `onFile` for each matching file as
 * soon as its folder is listed. Resolves when every folder is listed; rejects with the first error.
 */
function walk(
  listDir: ListDir,
  path: string,
  options: ListOptions,
  onFile: (entry: RemoteEntry) => void,
  needs: WalkNeeds,
): Promise<void> {
  const matches = makeMatcher(options.pattern ?? DEFAULT_PATTERN);
  const recursive = options.recursive ?? false;
  const relOf = (rel: string, name: string): string => (rel === '' ? name : `${rel}/${name}`);
  /** Depths at which a quick listing showed files to hand out (`entries` walks). */
  const filesAt = new Set<number>();
  const list = async (dir: string, rel: string, depth: number, onDataEnd?: (e: DirEntry[]) => void) => {
    if (needs === 'names') return listDir(dir, options, onDataEnd, () => false);
    const handedOut = (e: DirEntry): boolean => e.type === 'file' && matches(relOf(rel, e.name));
    const entries = await listDir(dir, options, onDataEnd, filesAt.has(depth) ? undefined : handedOut);
    if (entries.some(handedOut)) filesAt.add(depth);
    return entries;
  };
  const visit = async (dir: string, rel: string, depth: number): Promise<void> => {
    let subdirs: Promise<void>[] | undefined;
    // Sub-folders are listed from the first sight of the entries (possibly before the server
    // confirmed them: a sub-folder seen there exists); files only from the confirmed listing.
    const descend = (entries: DirEntry[]): void => {
      if (subdirs !== undefined) return;
      subdirs = [];
      if (!recursive || depth >= MAX_WALK_DEPTH) return;
      for (const e of entries) {
        if (e.type !== 'dir') continue;
        const sub = visit(joinRemote(dir, e.name), relOf(rel, e.name), depth + 1);
        // awaited below; until then (or if this folder's listing fails) not an unhandled rejection
        sub.catch(() => undefined);
        subdirs.push(sub);
      }
    };
    const entries = await list(dir, rel, depth, recursive ? descend : undefined);
    descend(entries);
    for (const e of entries) {
      const relPath = relOf(rel, e.name);
      if (e.type === 'file' && matches(relPath)) onFile(toRemoteEntry(e));
    }
    await Promise.all(subdirs ?? []);
  };
  return visit(rootOf(path), '', 0);
}

/** Every matching file, sorted by path. */
export async function listMatching(
  listDir: ListDir,
  path: string,
  options: ListOptions,
  needs: WalkNeeds = 'entries',
): Promise<RemoteEntry[]> {
  const found: RemoteEntry[] = [];
  await walk(listDir, path, options, (e) => found.push(e), needs);
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The matching files, yielded as their folders are listed (unsorted), so that a batch fed by it
 * starts transferring while deeper folders of a date tree are still being listed. A failed
 * listing ends the walk at once: files found but not yet yielded are not handed out.
 */
export async function* walkMatching(
  listDir: ListDir,
  path: string,
  options: ListOptions,
): AsyncGenerator<RemoteEntry> {
  const ready: RemoteEntry[] = [];
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  let outcome: { error: unknown } | 'done' | undefined;
  walk(
    listDir,
    path,
    options,
    (e) => {
      ready.push(e);
      poke();
    },
    'entries',
  ).then(
    () => {
      outcome = 'done';
      poke();
    },
    (error: unknown) => {
      outcome = { error };
      poke();
    },
  );
  // Bounded: each pass yields entries, ends, or waits for the walk to find a file or finish.
  for (;;) {
    if (outcome !== undefined && outcome !== 'done') throw outcome.error;
    if (ready.length > 0) {
      yield* ready.splice(0);
      continue;
    }
    if (outcome === 'done') return;
    await new Promise<void>((resolve) => (wake = resolve));
  }
}
