/**
 * `downloadFiles` for any client (FTP or SFTP): `maxConcurrent` downloads at a time through the
 * client's own `downloadFile`, every failure collected instead of stopping the batch, an async
 * iterable consumed while it still produces, and `maxConcurrent: 'auto'` steered by
 * `AdaptiveConcurrency` (adaptive.ts).
 */
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import { InvalidArgumentError } from '../errors.js';
import { AdaptiveConcurrency, DEFAULT_AUTO_CAP } from './adaptive.js';
import type {
  DownloadBatch,
  DownloadFailure,
  DownloadFilesOptions,
  DownloadOptions,
  RemoteEntry,
} from './types.js';

export const DEFAULT_MAX_CONCURRENT = 5;

export interface BatchClient {
  downloadFile(remote: string | RemoteEntry, localDir: string, options: DownloadOptions): Promise<string>;
  /** The pool's current cap on transfers at once. */
  poolLimit(): number;
  /** Lets the pool run `n` transfers at once (only when the user gave no explicit cap). */
  raiseLimit(n: number): void;
  /** The user's explicit per-server cap, if any: bounds 'auto' too. */
  explicitCap: number | undefined;
  log: Logger | undefined;
}

function adaptiveController(client: BatchClient, autoCap: number | undefined): AdaptiveConcurrency {
  const cap = autoCap ?? DEFAULT_AUTO_CAP;
  if (!Number.isInteger(cap) || cap < 1) {
    throw new InvalidArgumentError('autoCap', `expected an integer >= 1, got ${String(autoCap)}`);
  }
  return new AdaptiveConcurrency({
    cap: client.explicitCap === undefined ? cap : Math.min(cap, client.explicitCap),
  });
}

export async function runDownloadBatch(
  client: BatchClient,
  files: readonly (string | RemoteEntry)[] | AsyncIterable<string | RemoteEntry>,
  localDir: string,
  options: DownloadFilesOptions,
): Promise<DownloadBatch> {
  const requested = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
  const adaptive = requested === 'auto' ? adaptiveController(client, options.autoCap) : undefined;
  const maxConcurrent = adaptive?.concurrency ?? requested;
  if (typeof maxConcurrent !== 'number' || !Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
    throw new InvalidArgumentError(
      'maxConcurrent',
      `expected an integer >= 1 or 'auto', got ${String(requested)}`,
    );
  }
  if (client.explicitCap === undefined) client.raiseLimit(adaptive?.cap ?? maxConcurrent);
  const queue = new PQueue({ concurrency: maxConcurrent });
  const results: (string | undefined)[] = [];
  const failures: DownloadFailure[] = [];
  const started: Promise<void>[] = [];
  const enqueue = (file: string | RemoteEntry, i: number): void => {
    started.push(
      queue.add(async () => {
        const remotePath = typeof file === 'string' ? file : file.path;
        let seen = 0;
        const fileOptions: DownloadOptions = {};
        if (options.signal !== undefined) fileOptions.signal = options.signal;
        if (adaptive !== undefined) {
          fileOptions.onProgress = (bytes) => {
            adaptive.addBytes(bytes - seen);
            seen = bytes;
          };
        }
        try {
          const localPath = await client.downloadFile(file, localDir, fileOptions);
          results[i] = localPath;
          options.onFileDone?.({ remotePath, localPath });
        } catch (err) {
          const error = err instanceof Error ? err : new Error(String(err));
          failures.push({ remotePath, error });
          client.log?.warn({ remotePath, err: error }, 'download failed');
          options.onFileDone?.({ remotePath, error });
        } finally {
          if (adaptive !== undefined) {
            const next = adaptive.fileDone(client.poolLimit(), Date.now(), queue.size > 0);
            if (next !== queue.concurrency) {
              client.log?.debug({ from: queue.concurrency, to: next }, 'adaptive concurrency');
              queue.concurrency = next;
            }
          }
        }
      }),
    );
  };
  if (Symbol.asyncIterator in files) {
    let i = 0;
    try {
      for await (const file of files) enqueue(file, i++);
    } finally {
      await Promise.all(started);
    }
  } else {
    files.forEach(enqueue);
  }
  await Promise.all(started);
  const downloaded = results.filter((p): p is string => p !== undefined);
  return Object.assign(
    downloaded,
    adaptive === undefined ? { failures } : { failures, concurrency: [...adaptive.steps] },
  );
}
