/**
 * Synthetic radar date trees for tests and benchmarks: the file paths of a radar network's
 * history (one volume every `stepMinutes`), as an in-memory listing or as files on disk.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { radarTreeFolder } from '../../../src/radar/tree.js';
import type { TreeDirEntry } from '../../../src/daemon/tree-walker.js';

export interface TreeSpec {
  root: string;
  radars: string[];
  /** Newest volume time. */
  end: Date;
  /** How far back the history goes. */
  historyMs: number;
  stepMinutes: number;
  fields: string[];
  strategy?: string;
  volume?: string;
}

const p2 = (n: number): string => String(n).padStart(2, '0');

export function volumeFileName(
  radar: string,
  strategy: string,
  volume: string,
  field: string,
  t: Date,
): string {
  const stamp =
    `${t.getUTCFullYear()}${p2(t.getUTCMonth() + 1)}${p2(t.getUTCDate())}T` +
    `${p2(t.getUTCHours())}${p2(t.getUTCMinutes())}${p2(t.getUTCSeconds())}Z`;
  return `${radar}_${strategy}_${volume}_${field}_${stamp}.BUFR`;
}

/** Every file path of the tree (absolute remote paths). */
export function treeFiles(spec: TreeSpec): string[] {
  const out: string[] = [];
  const step = spec.stepMinutes * 60_000;
  const first = spec.end.getTime() - spec.historyMs;
  for (const radar of spec.radars) {
    for (let t = spec.end.getTime(); t > first; t -= step) {
      const time = new Date(t);
      const folder = radarTreeFolder(spec.root, radar, time);
      for (const field of spec.fields) {
        out.push(
          `${folder}/${volumeFileName(radar, spec.strategy ?? '0315', spec.volume ?? '01', field, time)}`,
        );
      }
    }
  }
  return out;
}

/** An in-memory server: `listDir` over a set of paths, counting the calls. */
export class FakeTree {
  readonly #children = new Map<string, Map<string, TreeDirEntry>>();
  listings = 0;
  listed: string[] = [];

  constructor(paths: Iterable<string> = []) {
    for (const p of paths) this.add(p);
  }

  add(path: string, size = 100, modifiedAt: Date | null = null): void {
    const parts = path.split('/').filter((s) => s !== '');
    let dir = '';
    parts.forEach((name, i) => {
      const parent = dir === '' ? '/' : dir;
      const full = `${dir}/${name}`;
      let kids = this.#children.get(parent);
      if (kids === undefined) {
        kids = new Map();
        this.#children.set(parent, kids);
      }
      const isFile = i === parts.length - 1;
      if (!kids.has(name) || isFile) {
        kids.set(name, {
          name,
          path: full,
          type: isFile ? 'file' : 'dir',
          size: isFile ? size : 0,
          modifiedAt,
        });
      }
      dir = full;
    });
  }

  listDir = async (path: string): Promise<TreeDirEntry[]> => {
    this.listings++;
    this.listed.push(path);
    const kids = this.#children.get(path.replace(/\/+$/, '') || '/');
    if (kids === undefined) {
      const { FtpReplyError } = await import('../../../src/errors.js');
      throw new FtpReplyError(550, 'No such directory', {
        host: 'fake',
        port: 21,
        command: 'LIST',
        remotePath: path,
      });
    }
    return [...kids.values()];
  };
}

/** Writes the tree's files under `localRoot` (the embedded server's root). */
export function writeTree(localRoot: string, files: readonly string[], bytes = 64): void {
  const made = new Set<string>();
  for (const f of files) {
    const dir = join(localRoot, f.slice(0, f.lastIndexOf('/')));
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    writeFileSync(join(localRoot, f), Buffer.alloc(bytes, 7));
  }
}
