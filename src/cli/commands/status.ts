/**
 * `radarlib status`: the ledger summary — counts by state, the last files, and failures with
 * their errors. Reads the ledger only (safe while the daemon runs). `--json` for scripts.
 */
import { Option, type Command } from '../commander.js';
import { ConfigError } from '../../errors.js';
import { FILE_STATES, type Ledger } from '../../ledger/ledger.js';
import { summarizeLedger, type LedgerSummary } from '../../observe/ledger-summary.js';
import { escapeControlChars as shown } from '../../util/terminal-text.js';
import { positiveInt } from '../option-parsers.js';

/** `--ledger PATH|URL`, else the `ledger` of the daemon's config (`--config` or RADARLIB_CONFIG). */
export interface LedgerCliOptions {
  config?: string;
  ledger?: string;
}

export function addLedgerOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('-c, --config <file>', "the daemon's YAML config (its ledger is used)").env(
        'RADARLIB_CONFIG',
      ),
    )
    .addOption(
      new Option('--ledger <path|url>', 'ledger file or postgres:// URL (instead of --config)').env(
        'RADARLIB_LEDGER',
      ),
    );
}

export async function openLedgerFrom(
  opts: LedgerCliOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Ledger> {
  // Loaded here, not at start-up: the config schema and the ledger drivers are most of the
  // CLI's start-up time, and only the ledger commands need them.
  const { openLedger } = await import('../../ledger/open.js');
  if (opts.ledger !== undefined && opts.ledger !== '') return openLedger(opts.ledger);
  if (opts.config === undefined) {
    throw new ConfigError('command line', 'ledger', 'give --config FILE or --ledger PATH');
  }
  const { loadDaemonConfig } = await import('../../daemon/config.js');
  const { config } = await loadDaemonConfig({ file: opts.config, env });
  return openLedger(config.ledger);
}

export interface StatusCliOptions extends LedgerCliOptions {
  source?: string;
  limit?: number;
  json?: boolean;
}

/** What `radarlib status` prints: the ledger summary (src/observe/ledger-summary.ts). */
export type StatusReport = LedgerSummary;

function when(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** Opens the ledger the options name, reads its summary and closes it. */
export async function statusReport(opts: StatusCliOptions): Promise<StatusReport> {
  const ledger = await openLedgerFrom(opts);
  try {
    return await summarizeLedger(ledger, { source: opts.source, limit: opts.limit });
  } finally {
    await ledger.close();
  }
}

/** Text for a terminal: remote names and error replies come from servers and may hold escape sequences. */
export function formatStatus(report: StatusReport): string {
  const lines: string[] = [];
  lines.push(`files: ${report.total}`);
  for (const s of FILE_STATES) lines.push(`  ${s.padEnd(12)} ${String(report.counts[s]).padStart(8)}`);
  lines.push('', 'last files:');
  if (report.recent.length === 0) lines.push('  (none)');
  for (const r of report.recent) {
    lines.push(
      `  ${when(r.downloadedAt)}  ${shown(r.source)}  ${shown(r.remotePath)}  ${r.size} B  -> ${shown(r.localPath ?? '-')}`,
    );
  }
  lines.push('', `failures (retry with: radarlib retry-failed):`);
  if (report.failed.length === 0) lines.push('  (none)');
  for (const r of report.failed) {
    lines.push(
      `  ${when(r.updatedAt)}  ${shown(r.source)}  ${shown(r.remotePath)}  after ${r.attempts} attempts: ${shown(r.lastError ?? '?')}`,
    );
  }
  if (report.latency.length > 0) {
    lines.push('', 'server -> processed (last 500 files with second-precision server times):');
    for (const l of report.latency)
      lines.push(
        `  ${shown(l.source)}  ${shown(l.radar)}  p50 ${l.p50Seconds} s  p95 ${l.p95Seconds} s  max ${l.maxSeconds} s  (${l.files} files)`,
      );
  }
  if (report.callbackErrors.length > 0) {
    lines.push('', 'callback errors:');
    for (const r of report.callbackErrors)
      lines.push(`  ${when(r.processedAt)}  ${shown(r.remotePath)}: ${shown(r.callbackError ?? '')}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerStatusCommand(program: Command): void {
  const cmd = program
    .command('status')
    .description("summary of the daemon's ledger: counts by state, last files, failures with errors");
  addLedgerOptions(cmd)
    .option('--source <name>', 'only this source')
    .option('-n, --limit <n>', 'files to show per list', positiveInt('--limit'), 10)
    .option('--json', 'machine-readable output')
    .action(async (opts: StatusCliOptions) => {
      const report = await statusReport(opts);
      process.stdout.write(
        opts.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report),
      );
    });
}
