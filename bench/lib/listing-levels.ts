/**
 * Times a walk's folder listings by depth, through basic-ftp's own `Client.list` (what radarlib's
 * `listDir` runs), for the bench's timelines: the prototype is wrapped until `restore()`.
 */
import { Client } from 'basic-ftp';

/** The listings of one depth: when the first started and the last ended (ms), and how many. */
export interface LevelTimes {
  first: number;
  last: number;
  n: number;
}

export interface ListingLevels {
  levels: Map<number, LevelTimes>;
  /** `L<depth>×<n> <first>–<last>`, by depth. */
  describe(): string;
  restore(): void;
}

/** Starts timing every listing by its depth below `/`, with `at()` as the clock. */
export function timeListingLevels(at: () => number): ListingLevels {
  const list = Client.prototype.list;
  const levels = new Map<number, LevelTimes>();
  Client.prototype.list = async function (this: Client, path?: string) {
    const start = at();
    const entries = await list.call(this, path);
    const depth = (path ?? '').split('/').filter((p) => p !== '').length;
    const level = levels.get(depth) ?? { first: start, last: 0, n: 0 };
    level.first = Math.min(level.first, start);
    level.last = Math.max(level.last, at());
    level.n++;
    levels.set(depth, level);
    return entries;
  };
  return {
    levels,
    describe: () =>
      [...levels.entries()]
        .sort(([a], [b]) => a - b)
        .map(([d, l]) => `L${d}×${l.n} ${l.first.toFixed(0)}–${l.last.toFixed(0)}`)
        .join(', '),
    restore: () => {
      Client.prototype.list = list;
    },
  };
}
