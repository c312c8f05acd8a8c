/**
 * proftpd serving a fresh data set inside the emulated WAN's namespace, for the one-off timing
 * scripts (bench/wan-timeline.ts, bench/walk-timeline.ts): the link is set up before and removed
 * after, the data set's folder too. Needs root, like the bench's WAN runs.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProftpd } from './proftpd.js';
import { wan, WAN_HOST, WAN_NS } from './setup.js';

type Proftpd = Awaited<ReturnType<typeof startProftpd>>;

export async function withWanProftpd<D, T>(
  port: number,
  makeData: (dir: string) => Promise<D>,
  /** `work`: a scratch folder beside the data, removed after. */
  run: (server: Proftpd, data: D, work: string) => Promise<T>,
): Promise<T> {
  const work = mkdtempSync(join(tmpdir(), 'radarlib-wan-'));
  chmodSync(work, 0o711); // proftpd reaches the served folder after dropping to nobody
  const up = wan('up');
  if (!up.ok) throw new Error(`wan up: ${up.out}`);
  try {
    const data = await makeData(join(work, 'data'));
    const server = await startProftpd({ root: join(work, 'data'), host: WAN_HOST, port, netns: WAN_NS });
    try {
      return await run(server, data, work);
    } finally {
      await server.stop();
    }
  } finally {
    wan('down');
    rmSync(work, { recursive: true, force: true });
  }
}
