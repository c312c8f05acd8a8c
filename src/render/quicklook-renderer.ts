/**
 * Renders quick-looks in a worker thread, so decoding and drawing never block the event loop
 * that also runs the daemon's downloads and the status server. One worker (renders run one at a
 * time: at most one core), started on first use and unref'd; a bounded queue in front of it.
 * Its errors (`QuicklookRenderError`, `QuicklookBusyError`) stay inside the status server, which
 * answers with fixed texts.
 *
 *   const renderer = new QuicklookRenderer({ maxQueued: 32 });
 *   const png = await renderer.render('/data/RMA1_....BUFR', 480);
 *   await renderer.close();
 */
import { Worker } from 'node:worker_threads';
import { QuicklookBusyError, QuicklookRenderError } from '../errors.js';

/** @internal message to the worker */
export interface RenderRequest {
  id: number;
  path: string;
  size: number;
}

/** @internal message from the worker */
export type RenderReply =
  | { id: number; png: Uint8Array }
  | { id: number; error: { name: string; code: string | null; message: string } };

export interface QuicklookRendererOptions {
  /** Renders waiting or running at once; more are refused with `QuicklookBusyError`. @default 32 */
  maxQueued?: number;
}

interface Pending {
  resolve: (png: Buffer) => void;
  reject: (err: Error) => void;
}

/**
 * The worker beside this module: `quicklook-worker.js` once built. Run from the TypeScript
 * sources (tests, `tsx`), module hooks do not reach worker threads on Node 20, so the worker
 * first registers tsx itself.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./quicklook-worker.js', import.meta.url));
  const entry = new URL('./quicklook-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true });
}

export class QuicklookRenderer {
  readonly #maxQueued: number;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | null = null;
  #nextId = 1;
  #closed = false;

  constructor(options: QuicklookRendererOptions = {}) {
    this.#maxQueued = options.maxQueued ?? 32;
  }

  /** Renders waiting or running. */
  get queued(): number {
    return this.#pending.size;
  }

  /**
   * The PNG of the lowest sweep of the volume in `path`, `size` pixels wide.
   * @throws QuicklookBusyError when `maxQueued` renders are already waiting.
   * @throws QuicklookRenderError when the file cannot be read, decoded or drawn.
   */
  render(path: string, size: number): Promise<Buffer> {
    if (this.#closed)
      return Promise.reject(new QuicklookRenderError('quick-look renderer is closed', null, 'Closed'));
    if (this.#pending.size >= this.#maxQueued) return Promise.reject(new QuicklookBusyError());
    const id = this.#nextId++;
    const worker = this.#ensureWorker();
    return new Promise<Buffer>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (this.#pending.size === 1) worker.ref();
      worker.postMessage({ id, path, size } satisfies RenderRequest);
    });
  }

  /** Stops the worker; waiting renders are rejected. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = null;
    this.#failAll(new QuicklookRenderError('quick-look renderer closed', null, 'Closed'));
    if (worker !== null) await worker.terminate();
  }

  #ensureWorker(): Worker {
    if (this.#worker !== null) return this.#worker;
    const worker = startWorker();
    worker.unref();
    worker.on('message', (reply: RenderReply) => {
      const p = this.#pending.get(reply.id);
      if (p === undefined) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) worker.unref();
      if ('png' in reply)
        p.resolve(Buffer.from(reply.png.buffer, reply.png.byteOffset, reply.png.byteLength));
      else p.reject(new QuicklookRenderError(reply.error.message, reply.error.code, reply.error.name));
    });
    const onDeath = (err: Error): void => {
      // A crashed worker (out of memory, a bug): fail what it held, start a new one next time.
      if (this.#worker === worker) this.#worker = null;
      this.#failAll(new QuicklookRenderError(`quick-look worker died: ${err.message}`, null, err.name));
    };
    worker.on('error', onDeath);
    worker.on('exit', (code) => {
      if (code !== 0 && !this.#closed) onDeath(new Error(`exit code ${code}`));
      else if (this.#worker === worker) this.#worker = null;
    });
    this.#worker = worker;
    return worker;
  }

  #failAll(err: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(err);
  }
}
