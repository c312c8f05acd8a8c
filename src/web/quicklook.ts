/**
 * Quick-look PNGs for the status page: decodes the latest volume of a radar and renders its
 * lowest sweep, keeping the last few images so page refreshes cost nothing.
 */
import { readRadarVolume } from '../bufr/radar-volume.js';
import { renderPpiPng } from '../render/ppi.js';
import type { VolumeRef } from './tracker.js';

export class QuicklookCache {
  readonly #max: number;
  readonly #images = new Map<string, Promise<Buffer>>();

  constructor(maxEntries = 32) {
    this.#max = maxEntries;
  }

  /** The PNG of `ref` at `size` pixels (decoded and rendered once, then cached). */
  get(ref: VolumeRef, size: number): Promise<Buffer> {
    const key = `${ref.id}|${ref.localPath}|${size}`;
    let png = this.#images.get(key);
    if (png === undefined) {
      png = readRadarVolume(ref.localPath).then((volume) => renderPpiPng(volume, { size }));
      // Failures are not cached: the next request tries again.
      png.catch(() => this.#images.delete(key));
      this.#images.set(key, png);
      while (this.#images.size > this.#max) {
        const oldest = this.#images.keys().next().value as string;
        this.#images.delete(oldest);
      }
    }
    return png;
  }
}
