/**
 * Quick-look PNGs for the status page: the latest volume of a radar rendered in a worker thread
 * (`QuicklookRenderer`), at one of a few fixed sizes, with a bounded cache that keeps the last
 * images and also the last failures, so a broken file is decoded (and logged) once, not on every
 * page refresh.
 */
import type { Logger } from 'pino';
import { HttpError, QuicklookBusyError } from '../errors.js';
import { QuicklookRenderer } from '../render/quicklook-renderer.js';
import type { VolumeRef } from './tracker.js';

/** Sizes a client may ask for (`?size=`), besides the server's default. */
export const QUICKLOOK_SIZES: readonly number[] = [240, 480, 960];

export interface QuicklookCacheOptions {
  /** Images and failures kept. @default 32 */
  maxEntries?: number;
  /** Renders waiting or running at once; more get 503. @default 32 */
  maxQueued?: number;
  logger: Logger;
}

type Entry = { png: Promise<Buffer> } | { failed: true };

export class QuicklookCache {
  readonly #max: number;
  readonly #entries = new Map<string, Entry>();
  readonly #renderer: QuicklookRenderer;
  readonly #log: Logger;

  constructor(options: QuicklookCacheOptions) {
    this.#max = options.maxEntries ?? 32;
    this.#renderer = new QuicklookRenderer({ maxQueued: options.maxQueued ?? 32 });
    this.#log = options.logger;
  }

  /**
   * The PNG of `ref` at `size` pixels: rendered once, then cached.
   * @throws HttpError 422 (the file cannot be rendered; remembered), 503 (too many renders waiting)
   */
  async get(ref: VolumeRef, size: number): Promise<Buffer> {
    const fileKey = `${ref.id}|${ref.localPath}`;
    const key = `${fileKey}|${size}`;
    const known = this.#entries.get(fileKey) ?? this.#entries.get(key);
    if (known !== undefined && 'failed' in known) throw unrenderable();
    let entry = known;
    if (entry === undefined) {
      const png = this.#renderer.render(ref.localPath, size);
      entry = { png };
      this.#remember(key, entry);
      png.catch((err: unknown) => {
        this.#entries.delete(key);
        if (err instanceof QuicklookBusyError) return;
        // The file is broken (or gone): remember it per file, whatever the size, and say so once.
        this.#remember(fileKey, { failed: true });
        this.#log.warn(
          { file: ref.localPath, radar: ref.radar, error: (err as Error).message },
          'cannot render a quick-look (not retried for this volume)',
        );
      });
    }
    try {
      return await (entry as { png: Promise<Buffer> }).png;
    } catch (err) {
      if (err instanceof QuicklookBusyError) {
        throw new HttpError(503, 'busy rendering quick-looks, try again', { 'retry-after': '2' });
      }
      throw unrenderable();
    }
  }

  close(): Promise<void> {
    return this.#renderer.close();
  }

  #remember(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#max) {
      this.#entries.delete(this.#entries.keys().next().value as string);
    }
  }
}

function unrenderable(): HttpError {
  return new HttpError(422, 'the latest volume cannot be rendered');
}
