/**
 * One daemon instance, run as its own process by the multi-instance test and benchmark.
 *
 *   node --import tsx test/multi-instance/instance.ts <config.json> <name> <outDir>
 *
 * It loads the config as `radarlib daemon` does (file + RADARLIB_* environment overrides), runs
 * an `FTPDaemon` until SIGTERM/SIGINT, and records what it did in files of its own, appended
 * line by line so that a SIGKILL loses at most the line being written:
 *
 *   <outDir>/<name>.events.jsonl     {type:'started'|'downloaded'|'lease-lost'|'failed'|'stopped', ...}
 *   <outDir>/<name>.callbacks.jsonl  one line per callback run: row id, paths, size, SHA-256 seen
 *   stderr                           the daemon's pino log (the parent sends it to <name>.log)
 *
 * MULTI_INSTANCE_CALLBACK_DELAY_MS makes each callback wait that long first (a slow processing step);
 * MULTI_INSTANCE_CALLBACK_HASH=0 skips reading and hashing the file (the benchmark measures the daemon).
 */
import { appendFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadDaemonConfig } from '../../src/daemon/config.js';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import { createLogger } from '../../src/observe/log.js';

export interface InstanceEvent {
  type: 'started' | 'downloaded' | 'failed' | 'stopped';
  instance: string;
  pid: number;
  at: number;
  id?: number;
  remotePath?: string;
  localPath?: string;
  error?: string;
}

export interface CallbackRecord {
  instance: string;
  pid: number;
  id: number;
  remotePath: string;
  localPath: string;
  size: number;
  /** SHA-256 of the local file as the callback read it ('' with MULTI_INSTANCE_CALLBACK_HASH=0). */
  sha256: string;
  at: number;
}

async function main(): Promise<number> {
  const [configPath, name, outDir] = process.argv.slice(2);
  if (configPath === undefined || name === undefined || outDir === undefined) {
    process.stderr.write('usage: instance.ts <config.json> <name> <outDir>\n');
    return 2;
  }
  const eventsFile = join(outDir, `${name}.events.jsonl`);
  const callbacksFile = join(outDir, `${name}.callbacks.jsonl`);
  const event = (e: Omit<InstanceEvent, 'instance' | 'pid' | 'at'>): void =>
    appendFileSync(
      eventsFile,
      `${JSON.stringify({ ...e, instance: name, pid: process.pid, at: Date.now() })}\n`,
    );

  // A slow callback (decoding, an exec hook) widens the window between commit and processed.
  const callbackDelayMs = Number(process.env['MULTI_INSTANCE_CALLBACK_DELAY_MS'] ?? '0');
  const hash = process.env['MULTI_INSTANCE_CALLBACK_HASH'] !== '0';
  const { config, warnings } = await loadDaemonConfig({ file: configPath, env: process.env });
  const logger = createLogger({
    level: config.logLevel,
    destination: process.stderr,
    pretty: false,
    base: { instance: name },
  });
  for (const w of warnings) logger.warn({}, w);

  const daemon = new FTPDaemon(config, {
    logger,
    onFileDownloaded: async (localPath, info) => {
      if (callbackDelayMs > 0) await sleep(callbackDelayMs);
      const bytes = hash ? await readFile(localPath) : null;
      const record: CallbackRecord = {
        instance: name,
        pid: process.pid,
        id: info.id,
        remotePath: info.remotePath,
        localPath,
        size: bytes?.length ?? info.size,
        sha256: bytes === null ? '' : createHash('sha256').update(bytes).digest('hex'),
        at: Date.now(),
      };
      appendFileSync(callbacksFile, `${JSON.stringify(record)}\n`);
    },
  });
  daemon.on('downloaded', (e) =>
    event({ type: 'downloaded', id: e.record.id, remotePath: e.record.remotePath, localPath: e.localPath }),
  );
  daemon.on('failed', (e) => event({ type: 'failed', remotePath: e.remotePath, error: e.error.message }));

  const stop = (): void => void daemon.stop();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  event({ type: 'started' });
  await daemon.run();
  event({ type: 'stopped' });
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `instance failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);
