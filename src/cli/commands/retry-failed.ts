/**
 * `radarlib retry-failed`: moves `failed` rows back to `ready` with their attempts reset; the
 * running daemon takes them on its next cycle.
 */
import type { Command } from 'commander';
import { addLedgerOptions, openLedgerFrom, type LedgerCliOptions } from './status.js';

export interface RetryFailedCliOptions extends LedgerCliOptions {
  source?: string;
}

/** Re-queues failed files; resolves with how many. */
export async function retryFailed(opts: RetryFailedCliOptions): Promise<number> {
  const ledger = await openLedgerFrom(opts);
  try {
    return await ledger.retryFailed(opts.source);
  } finally {
    await ledger.close();
  }
}

export function registerRetryFailedCommand(program: Command): void {
  const cmd = program
    .command('retry-failed')
    .description('re-queue files that exhausted their download attempts (the daemon takes them next cycle)');
  addLedgerOptions(cmd)
    .option('--source <name>', 'only this source')
    .action(async (opts: RetryFailedCliOptions) => {
      const n = await retryFailed(opts);
      process.stdout.write(`re-queued ${n} failed file${n === 1 ? '' : 's'}\n`);
    });
}
