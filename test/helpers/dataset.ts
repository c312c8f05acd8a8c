/**
 * Synthetic radar data sets for FTP tests and benchmarks: files named and laid out like the
 * national radar network's BUFR volumes, with deterministic pseudo-random content.
 *
 *   flat: DIR/RMA1_0315_01_DBZH_20251020T152828Z.BUFR ...
 *   tree: DIR/L2/RMA1/2025/10/20/15/2828/RMA1_0315_01_DBZH_20251020T152828Z.BUFR
 *
 * Sizes are drawn log-uniformly between 70 KB and 1.7 MB (mean ≈ 510 KB). A file's bytes depend
 * only on the seed and its index, so two calls with the same options write the same bytes.
 * Each file starts with `BUFR` and its section 0 (total length, edition 4) and ends with `7777`
 * like a real message (its body is random).
 * Everything is made world-readable, because FTP servers run virtual users as nobody.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { chmod, mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom as prng } from '../../src/util/prng.js';

export interface RadarDatasetOptions {
  /** Volumes (scan times) per radar. */
  volumes: number;
  layout: 'flat' | 'tree';
  /** @default ['RMA1'] */
  radars?: string[];
  /** Time of the first volume. @default the current UTC hour minus volumes × stepSeconds */
  start?: Date;
  /** @default 42 */
  seed?: number;
  /** Moments written per volume (one file each). @default DBZH DBZV ZDR KDP RHOHV PHIDP */
  fields?: string[];
  /** Scan strategy in the name. @default '0315' */
  strategy?: string;
  /** Seconds between volumes (each gets 0–59 s of seeded jitter). @default 600 */
  stepSeconds?: number;
  /** @default 70_000 */
  sizeMin?: number;
  /** @default 1_700_000 */
  sizeMax?: number;
}

export interface DatasetFile {
  /** Path relative to the data set folder, `/`-separated. */
  relPath: string;
  size: number;
  sha256: string;
  /** The file's mtime: volume time + 60 s, as if uploaded a minute after the scan. */
  mtime: Date;
}

const DEFAULT_FIELDS = ['DBZH', 'DBZV', 'ZDR', 'KDP', 'RHOHV', 'PHIDP'];
/** Upper bound on files, so a typo cannot fill the disk. */
const MAX_FILES = 20_000;

/** Deterministic bytes: the AES-256-CTR keystream for a key derived from (seed, index). */
function fileBytes(seed: number, index: number, size: number): Buffer {
  const key = createHash('sha256').update(`radarlib-dataset:${seed}:${index}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const buf = Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
  if (size >= 8) {
    buf.write('BUFR', 0, 'latin1');
    // Section 0 as a real edition-4 message has it: the daemon's `verify: 'auto'` checks the
    // declared length against the file (a message longer than 16 MiB cannot declare it).
    if (size < 2 ** 24) {
      buf.writeUIntBE(size, 4, 3);
      buf[7] = 4;
    }
    buf.write('7777', size - 4, 'latin1');
  }
  return buf;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `20251020T152828Z` */
function stamp(t: Date): string {
  return (
    `${t.getUTCFullYear()}${pad(t.getUTCMonth() + 1)}${pad(t.getUTCDate())}` +
    `T${pad(t.getUTCHours())}${pad(t.getUTCMinutes())}${pad(t.getUTCSeconds())}Z`
  );
}

/** `L2/RMA1/2025/10/20/15/2828` */
function treeDir(radar: string, t: Date): string {
  return [
    'L2',
    radar,
    String(t.getUTCFullYear()),
    pad(t.getUTCMonth() + 1),
    pad(t.getUTCDate()),
    pad(t.getUTCHours()),
    `${pad(t.getUTCMinutes())}${pad(t.getUTCSeconds())}`,
  ].join('/');
}

/** Write the data set under `dir` (created if needed) and describe every file written. */
export async function makeRadarDataset(dir: string, opts: RadarDatasetOptions): Promise<DatasetFile[]> {
  const radars = opts.radars ?? ['RMA1'];
  const fields = opts.fields ?? DEFAULT_FIELDS;
  const seed = opts.seed ?? 42;
  const step = opts.stepSeconds ?? 600;
  const sizeMin = opts.sizeMin ?? 70_000;
  const sizeMax = opts.sizeMax ?? 1_700_000;
  const strategy = opts.strategy ?? '0315';
  if (!Number.isInteger(opts.volumes) || opts.volumes < 0)
    throw new Error(`volumes must be >= 0, got ${opts.volumes}`);
  if (opts.volumes * radars.length * fields.length > MAX_FILES)
    throw new Error(`data set would have more than ${MAX_FILES} files`);
  if (!(sizeMin > 0 && sizeMax >= sizeMin)) throw new Error(`bad size range ${sizeMin}..${sizeMax}`);
  const start =
    opts.start ?? new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - opts.volumes * step * 1000);

  const rand = prng(seed);
  const [lmin, lmax] = [Math.log(sizeMin), Math.log(sizeMax)];
  const files: DatasetFile[] = [];
  const dirs = new Set<string>([dir]);
  await mkdir(dir, { recursive: true });
  let index = 0;
  for (const radar of radars) {
    for (let v = 0; v < opts.volumes; v++) {
      const t = new Date(start.getTime() + (v * step + Math.floor(rand() * 60)) * 1000);
      const sub = opts.layout === 'tree' ? treeDir(radar, t) : '';
      if (sub !== '') {
        await mkdir(join(dir, sub), { recursive: true });
        // every folder level, so each can be chmod'ed world-readable below
        const parts = sub.split('/');
        for (let i = 1; i <= parts.length; i++) dirs.add(join(dir, ...parts.slice(0, i)));
      }
      const mtime = new Date(Math.floor(t.getTime() / 1000) * 1000 + 60_000);
      for (const field of fields) {
        const size = sizeMin === sizeMax ? sizeMin : Math.round(Math.exp(lmin + rand() * (lmax - lmin)));
        const name = `${radar}_${strategy}_01_${field}_${stamp(t)}.BUFR`;
        const relPath = sub === '' ? name : `${sub}/${name}`;
        const bytes = fileBytes(seed, index++, size);
        const abs = join(dir, relPath);
        await writeFile(abs, bytes, { mode: 0o644 });
        await chmod(abs, 0o644); // mode above is filtered by the umask
        await utimes(abs, mtime, mtime);
        files.push({ relPath, size, sha256: createHash('sha256').update(bytes).digest('hex'), mtime });
      }
    }
  }
  for (const d of dirs) await chmod(d, 0o755);
  return files;
}
