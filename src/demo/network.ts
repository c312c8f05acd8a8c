/**
 * A synthetic radar network for the demo and the tests: a few radars, each publishing a volume
 * (one BUFR file per field: DBZH, VRAD, ZDR by default) every `cadence` seconds into
 * `<remoteRoot>/<RADAR>/YYYY/MM/DD/HH/MMSS/` under the folder an FTP server serves.
 *
 * The files are real radar BUFR written by the project's own encoder: the synthetic echo of
 * `makeSyntheticVolume` (a ring of stratiform rain with texture) plus a few convective cells that
 * circle the radar, so successive quick-looks visibly move. Files are uploaded the way real sites
 * do it: the final name appears at once and grows in a few writes over `growMs` before it is
 * complete, so the daemon's stability check has something to do.
 */
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { encodeRadarVolume } from '../bufr/encoder.js';
import { makeSyntheticVolume } from '../bufr/synthetic.js';
import { InvalidArgumentError } from '../errors.js';
import { silentLogger } from '../observe/log.js';
import { radarVolumeFileName } from '../radar/filename.js';
import { FILL, NO_DATA, type RadarVolume } from '../radar/model.js';
import { radarTreeFolder } from '../radar/tree.js';

/** Real SiNaRaMe (Argentine network) sites, for plausible names and positions. */
export const DEMO_SITES: readonly { radar: string; latitude: number; longitude: number; height: number }[] = [
  { radar: 'RMA1', latitude: -31.4413, longitude: -64.1919, height: 476 },
  { radar: 'RMA2', latitude: -34.8012, longitude: -58.5158, height: 21 },
  { radar: 'RMA3', latitude: -24.7284, longitude: -60.5589, height: 138 },
  { radar: 'RMA4', latitude: -27.4517, longitude: -59.0508, height: 66 },
  { radar: 'RMA5', latitude: -26.2781, longitude: -53.6711, height: 840 },
  { radar: 'RMA6', latitude: -38.0147, longitude: -57.5276, height: 44 },
  { radar: 'RMA7', latitude: -38.8766, longitude: -68.1432, height: 282 },
  { radar: 'RMA8', latitude: -29.2216, longitude: -58.0447, height: 120 },
];

/** Options of {@link startRadarNetwork}. */
export interface RadarNetworkOptions {
  /** Local folder the FTP server serves as `/`. */
  root: string;
  /** Number of radars (named after real sites, RMA1...), or their names. @default 3 */
  radars?: number | readonly string[];
  /** Seconds between volumes of one radar (>= 1). @default 5 */
  cadence?: number;
  /** Fields written per volume. @default ['DBZH', 'VRAD', 'ZDR'] */
  fields?: readonly string[];
  /** Remote folder of the radar trees. @default '/L2' */
  remoteRoot?: string;
  /** How long a file grows before it is complete, ms. @default min(1500, cadence * 300) */
  growMs?: number;
  /** Rays, gates and elevations of each volume. @default 360, 480, [0.5, 1.3, 2.3] */
  nrays?: number;
  ngates?: number;
  elevations?: readonly number[];
  /** Add convective cells that circle the radar. @default true */
  cells?: boolean;
  /** Publish the first volumes at once (else after one cadence). @default true */
  immediate?: boolean;
  /** Called after each file is complete. */
  onPublished?: (file: PublishedFile) => void;
  /** @default silent */
  logger?: Logger;
  /** Clock (epoch ms). @default Date.now */
  now?: () => number;
}

/** One file the synthetic network published: where, when, and its size. */
export interface PublishedFile {
  radar: string;
  field: string;
  time: Date;
  /** Path on the FTP server. */
  remotePath: string;
  /** Path under `root`. */
  localPath: string;
  size: number;
}

/** A running synthetic radar network (see {@link startRadarNetwork}). */
export interface RadarNetwork {
  readonly radars: readonly string[];
  readonly fields: readonly string[];
  /** Files completed so far. */
  readonly publishedCount: number;
  /** Publishes one volume of every radar now (and waits until the files are complete). */
  publishNow(): Promise<PublishedFile[]>;
  /** Stops the timer and waits for files being written. Idempotent. */
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Value of a cell of relative strength `s` (0..1) for a field. */
function cellValue(field: string, s: number, azimuthDeg: number): number {
  switch (field) {
    case 'VRAD':
      // Air moving north-east across the cell: approaching on one side, receding on the other.
      return 25 * Math.sin(((azimuthDeg - 45) * Math.PI) / 180) * (0.4 + 0.6 * s);
    case 'ZDR':
      return 0.5 + 4 * s;
    case 'WRAD':
      return 1 + 6 * s;
    case 'KDP':
      return 3.5 * s * s;
    default:
      return 15 + 45 * s;
  }
}

/** Adds `count` convective cells circling the radar (about one turn per 20 minutes). */
export function addMovingCells(volume: RadarVolume, t: number, seed: number, count = 3): void {
  const cells = Array.from({ length: count }, (_, k) => {
    const phase = (seed * 97 + k * 131) % 360;
    return {
      rangeKm: 45 + ((seed * 37 + k * 53) % 90),
      azimuth: (((phase + (t / 1000) * 0.3 * (k % 2 === 0 ? 1 : -1)) % 360) + 360) % 360,
      radiusKm: 8 + ((seed + k * 7) % 8),
    };
  });
  for (const sweep of volume.sweeps) {
    const { nrays, ngates, gateSize, firstGateOffset, firstAzimuth, values } = sweep;
    for (const c of cells) {
      const a = (c.azimuth * Math.PI) / 180;
      const cx = c.rangeKm * Math.sin(a);
      const cy = c.rangeKm * Math.cos(a);
      // Only the rays and gates the cell can touch (its bounding wedge), not the whole sweep.
      const g0 = Math.max(0, Math.floor(((c.rangeKm - c.radiusKm) * 1000 - firstGateOffset) / gateSize));
      const g1 = Math.min(
        ngates - 1,
        Math.ceil(((c.rangeKm + c.radiusKm) * 1000 - firstGateOffset) / gateSize),
      );
      const halfWidthDeg = (Math.asin(Math.min(1, c.radiusKm / c.rangeKm)) * 180) / Math.PI + 1;
      const raySpan = Math.ceil((halfWidthDeg * nrays) / 360);
      const centreRay = Math.round(((((c.azimuth - firstAzimuth) % 360) + 360) % 360) * (nrays / 360));
      for (let k = -raySpan; k <= raySpan; k++) {
        const ray = (((centreRay + k) % nrays) + nrays) % nrays;
        const azDeg = firstAzimuth + (ray * 360) / nrays;
        const az = (azDeg * Math.PI) / 180;
        const sin = Math.sin(az);
        const cos = Math.cos(az);
        for (let g = g0; g <= g1; g++) {
          const rKm = (firstGateOffset + (g + 0.5) * gateSize) / 1000;
          const d = Math.hypot(rKm * sin - cx, rKm * cos - cy) / c.radiusKm;
          if (d >= 1) continue;
          const s = 1 - d * d;
          if (s <= 0.05) continue;
          const i = ray * ngates + g;
          const old = values[i] as number;
          if (old === FILL) continue;
          const v = Math.fround(cellValue(volume.field, s, azDeg));
          if (old === NO_DATA || Number.isNaN(old) || volume.field === 'VRAD' || v > old) values[i] = v;
        }
      }
    }
  }
}

/** A copy of `base` at another time (sweep times shifted alike), with its own value arrays. */
function stampVolume(base: RadarVolume, time: Date): RadarVolume {
  const shift = time.getTime() - base.time.getTime();
  return {
    ...base,
    time,
    fileName: radarVolumeFileName({ ...base, time }),
    sweeps: base.sweeps.map((s) => ({
      ...s,
      startTime: new Date(s.startTime.getTime() + shift),
      endTime: new Date(s.endTime.getTime() + shift),
      values: s.values.slice(),
      additionalMoments: [],
    })),
  };
}

/** The network's options with defaults applied and checked. */
interface NetworkPlan {
  cadence: number;
  radars: string[];
  fields: string[];
  remoteRoot: string;
  growMs: number;
  now: () => number;
}

function planNetwork(options: RadarNetworkOptions): NetworkPlan {
  const cadence = options.cadence ?? 5;
  if (!(cadence >= 1)) throw new InvalidArgumentError('cadence', `${cadence} s: must be at least 1 s`);
  const radarsOpt = options.radars ?? 3;
  const radars =
    typeof radarsOpt === 'number'
      ? Array.from({ length: radarsOpt }, (_, i) => DEMO_SITES[i]?.radar ?? `RMA${i + 1}`)
      : [...radarsOpt];
  if (radars.length < 1 || radars.length > 50) {
    throw new InvalidArgumentError('radars', `${radars.length}: must be 1..50`);
  }
  for (const r of radars) {
    if (!/^[A-Z]{2,}[0-9]+$/.test(r)) throw new InvalidArgumentError('radars', `${r}: use names like RMA1`);
  }
  return {
    cadence,
    radars,
    fields: [...(options.fields ?? ['DBZH', 'VRAD', 'ZDR'])],
    remoteRoot: options.remoteRoot ?? '/L2',
    growMs: options.growMs ?? Math.min(1500, cadence * 300),
    now: options.now ?? Date.now,
  };
}

/**
 * Writes `bytes` the way real sites upload: the final name at once, growing in three writes over
 * `growMs` (shortened once `isStopped()`), then synced.
 */
async function writeGrowing(
  localPath: string,
  bytes: Uint8Array,
  growMs: number,
  isStopped: () => boolean,
): Promise<void> {
  const handle = await open(localPath, 'w');
  try {
    const parts = 3;
    const step = Math.ceil(bytes.length / parts);
    for (let k = 0; k < parts; k++) {
      await handle.write(bytes, k * step, Math.min(step, bytes.length - k * step), k * step);
      if (k < parts - 1 && !isStopped()) await sleep(growMs / (parts - 1));
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Makes the volumes of the network. The stratiform ring of each radar and field is made once;
 * each volume copies it, stamps its time and adds the moving cells (making a volume from scratch
 * costs ten times more).
 */
class VolumeMaker {
  readonly #bases = new Map<string, RadarVolume>();

  constructor(private readonly options: RadarNetworkOptions) {}

  make(radar: string, radarIndex: number, field: string, fieldIndex: number, time: Date): RadarVolume {
    const volume = stampVolume(this.#base(radar, radarIndex, field, fieldIndex, time), time);
    if (this.options.cells ?? true) addMovingCells(volume, time.getTime(), radarIndex + 1);
    return volume;
  }

  #base(radar: string, radarIndex: number, field: string, fieldIndex: number, time: Date): RadarVolume {
    const key = `${radar}/${field}`;
    let base = this.#bases.get(key);
    if (base === undefined) {
      const site = DEMO_SITES.find((s) => s.radar === radar);
      base = makeSyntheticVolume({
        radar,
        field,
        time,
        nrays: this.options.nrays ?? 360,
        ngates: this.options.ngates ?? 480,
        elevations: this.options.elevations ?? [0.5, 1.3, 2.3],
        seed: (radarIndex + 1) * 1000 + fieldIndex,
        ...(site === undefined
          ? {}
          : { latitude: site.latitude, longitude: site.longitude, height: site.height }),
      });
      this.#bases.set(key, base);
    }
    return base;
  }
}

/**
 * Calls `tick(i)` for each radar every `cadence` seconds, the radars staggered over the cadence as
 * real sites are not synchronised; returns the function that clears every timer.
 */
function staggerTicks(
  count: number,
  cadence: number,
  immediate: boolean,
  tick: (index: number) => void,
  isStopped: () => boolean,
): () => void {
  const timers: NodeJS.Timeout[] = [];
  const starters = Array.from({ length: count }, (_, i) =>
    setTimeout(
      () => {
        if (isStopped()) return;
        if (immediate) tick(i);
        timers.push(setInterval(() => tick(i), cadence * 1000));
      },
      Math.round((i * cadence * 1000) / count),
    ),
  );
  return () => {
    for (const t of starters) clearTimeout(t);
    for (const t of timers) clearInterval(t);
  };
}

/** Writes one volume of a radar (a file per field) into its date-tree folder under `root`. */
class VolumePublisher {
  readonly #volumes: VolumeMaker;
  readonly #lastTime = new Map<string, number>();
  published = 0;

  constructor(
    private readonly options: RadarNetworkOptions,
    private readonly plan: NetworkPlan,
    private readonly log: Logger,
    private readonly isStopped: () => boolean,
  ) {
    this.#volumes = new VolumeMaker(options);
  }

  async publish(index: number): Promise<PublishedFile[]> {
    const radar = this.plan.radars[index] as string;
    const time = this.#nextVolumeTime(radar);
    const folder = radarTreeFolder(this.plan.remoteRoot, radar, time);
    const localDir = join(this.options.root, ...folder.split('/').filter((s) => s !== ''));
    await mkdir(localDir, { recursive: true });
    return Promise.all(
      this.plan.fields.map(async (field, k) => {
        const volume = this.#volumes.make(radar, index, field, k, time);
        // zlib level 1: five times faster than the RMA files' level 6, about 7 % larger.
        const bytes = encodeRadarVolume(volume, { level: 1 });
        const name = volume.fileName as string;
        const localPath = join(localDir, name);
        await writeGrowing(localPath, bytes, this.plan.growMs, this.isStopped);
        const file: PublishedFile = {
          radar,
          field,
          time,
          remotePath: `${folder}/${name}`,
          localPath,
          size: bytes.length,
        };
        this.published++;
        this.log.debug({ remotePath: file.remotePath, size: file.size }, 'volume published');
        this.options.onPublished?.(file);
        return file;
      }),
    );
  }

  /** Whole seconds, and never twice the same second for one radar (the name would repeat). */
  #nextVolumeTime(radar: string): Date {
    const t = Math.max(
      Math.floor(this.plan.now() / 1000) * 1000,
      (this.#lastTime.get(radar) ?? -Infinity) + 1000,
    );
    this.#lastTime.set(radar, t);
    return new Date(t);
  }
}

/** Starts publishing. The first volumes are written at once unless `immediate: false`. */
export function startRadarNetwork(options: RadarNetworkOptions): RadarNetwork {
  const plan = planNetwork(options);
  const { radars, fields } = plan;
  const log = (options.logger ?? silentLogger()).child({ module: 'demo-network' });
  let stopped = false;
  const isStopped = (): boolean => stopped;
  const publisher = new VolumePublisher(options, plan, log, isStopped);
  const inFlight = new Set<Promise<unknown>>();

  function track<T>(p: Promise<T>): Promise<T> {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    return p;
  }

  const busy = new Set<number>();
  function tick(index: number): void {
    // A radar still writing its previous volume skips this slot instead of piling up.
    if (stopped || busy.has(index)) return;
    busy.add(index);
    track(publisher.publish(index))
      .catch((err: unknown) => log.warn({ err, radar: radars[index] }, 'cannot publish a volume'))
      .finally(() => busy.delete(index));
  }

  const clearTimers = staggerTicks(radars.length, plan.cadence, options.immediate ?? true, tick, isStopped);

  let stopping: Promise<void> | null = null;
  return {
    radars,
    fields,
    get publishedCount() {
      return publisher.published;
    },
    async publishNow() {
      const all = await Promise.all(radars.map((_, i) => track(publisher.publish(i))));
      return all.flat();
    },
    stop() {
      stopping ??= (async () => {
        stopped = true;
        clearTimers();
        await Promise.allSettled([...inFlight]);
      })();
      return stopping;
    },
  };
}
