/**
 * Worker-thread entry of the quick-look renderer (see `QuicklookRenderer`): decodes one volume
 * file and renders its lowest sweep to PNG, off the main thread, one request at a time.
 */
import { parentPort } from 'node:worker_threads';
import { readRadarVolume } from '../bufr/radar-volume.js';
import { renderPpiPng } from './ppi.js';
import type { RenderReply, RenderRequest } from './quicklook-renderer.js';

const port = parentPort;
if (port === null) throw new Error('quicklook-worker.ts runs only as a worker thread');

port.on('message', (req: RenderRequest) => {
  void (async (): Promise<RenderReply> => {
    try {
      const volume = await readRadarVolume(req.path);
      const png = renderPpiPng(volume, { size: req.size });
      return { id: req.id, png };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const code = (e as { code?: unknown }).code;
      return {
        id: req.id,
        error: { name: e.name, code: typeof code === 'string' ? code : null, message: e.message },
      };
    }
  })().then((reply) => {
    if ('png' in reply) port.postMessage(reply, [reply.png.buffer as ArrayBuffer]);
    else port.postMessage(reply);
  });
});
