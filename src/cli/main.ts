#!/usr/bin/env node
/**
 * `radarlib` command line: parses arguments and hands over to the library. No business logic
 * here; errors become one line naming what failed (with the stable code) and exit status 1
 * (`--verbose` adds the stack and causes). Exit codes: docs/DAEMON.md#exit-codes.
 *
 * Commands load what they need when they run (the demo's FTP server, the status page, the
 * ledger drivers), so `radarlib --help` and `radarlib ls` start fast and need none of it.
 */
import { createRequire } from 'node:module';
import { Command } from './commander.js';
import { ConfigError } from '../errors.js';
import { EXIT_CONFIG, formatCliError, wantsVerbose } from './errors.js';
import { registerDaemonCommand } from './commands/daemon.js';
import { registerDecodeCommand } from './commands/decode.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerFtpCommands } from './commands/ftp.js';
import { registerRetryFailedCommand } from './commands/retry-failed.js';
import { registerStatusCommand } from './commands/status.js';

/** The installed package's version (src/cli and dist/cli are both two levels below it). */
function packageVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('radarlib')
    .description(
      'Keeps weather-radar data flowing: FTP mirroring daemon, parallel FTP client, radar BUFR decoder',
    )
    .version(packageVersion())
    .option('--verbose', 'on failure, print the whole error (stack, causes), not just one line')
    .showHelpAfterError();
  registerDemoCommand(program);
  registerDaemonCommand(program);
  registerStatusCommand(program);
  registerRetryFailedCommand(program);
  registerFtpCommands(program);
  registerDecodeCommand(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.stderr.write(formatCliError(err, wantsVerbose(argv)));
    process.exitCode = err instanceof ConfigError ? EXIT_CONFIG : 1;
  }
}

// Run when executed directly (node dist/cli/main.js, tsx src/cli/main.ts, or the bin shim).
if (process.argv[1] !== undefined && /cli[/\\]main\.(ts|js)$/.test(process.argv[1])) {
  await main();
}
