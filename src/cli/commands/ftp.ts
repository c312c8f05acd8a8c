/**
 * `radarlib ls` and `radarlib get`: the client from a shell.
 */
import { createRequire } from 'node:module';
import type * as CliProgress from 'cli-progress';
import type { SingleBar } from 'cli-progress';
import { Command, Option } from '../commander.js';
import type { Logger } from 'pino';
import { InvalidArgumentError } from '../../errors.js';
import type { AsyncFTPClient } from '../../ftp/client.js';
import type { DownloadBatch, DownloadFilesOptions, RemoteEntry } from '../../ftp/types.js';
import { escapeControlChars as shown } from '../../util/terminal-text.js';
import type { AsyncSFTPClient } from '../../sftp/client.js';
import { parseServerArg, type ParsedServer, type ServerArgOptions } from '../server-arg.js';

/**
 * The client for an ftp://, ftps:// or sftp:// argument. Clients load when a command runs, not
 * when the CLI starts (`--help` needs none), and the SSH library only for sftp://.
 */
async function openClient(
  parsed: ParsedServer,
  extra: { logger: Logger; maxConnections?: number },
): Promise<AsyncFTPClient | AsyncSFTPClient> {
  if (parsed.protocol === 'ftp') {
    const { AsyncFTPClient: Client } = await import('../../ftp/client.js');
    return new Client({ ...parsed.options, ...extra });
  }
  const { AsyncSFTPClient: Client } = await import('../../sftp/client.js');
  return new Client({ ...parsed.options, ...extra });
}

/** Warnings and errors of the client on stderr (pino loads with the first command that runs). */
async function warnLogger(): Promise<Logger> {
  const { createLogger } = await import('../../observe/log.js');
  return createLogger({ level: 'warn', destination: process.stderr });
}

/**
 * The progress bar of `get` on a terminal (its library loads only then, with `require`: it is
 * CommonJS, and an ESM `import` would add Node's scan of its exports).
 */
function progressBar(): SingleBar {
  const { SingleBar: Bar, Presets } = createRequire(import.meta.url)('cli-progress') as typeof CliProgress;
  return new Bar(
    { format: 'get [{bar}] {value}/{total} files | {bytes} | {eta}s left' },
    Presets.shades_classic,
  );
}

function addServerOptions(cmd: Command): Command {
  return cmd
    .option('-u, --user <name>', 'user name (default: anonymous, or the one in the URL)')
    .option('-P, --port <port>', 'control port (default 21)')
    .option('--password-file <file>', 'read the password from this file (else RADARLIB_FTP_PASSWORD)')
    .option('--ftps', 'explicit FTPS (AUTH TLS); an ftps:// URL does the same')
    .option('--insecure', 'do not verify the FTPS certificate (logs a warning)')
    .option('-i, --identity <file>', 'sftp://: private key file (as ssh -i)')
    .option('--passphrase-file <file>', "sftp://: read the private key's passphrase from this file")
    .option('--agent', 'sftp://: use ssh-agent (default when SSH_AUTH_SOCK is set and no key or password)')
    .option('--known-hosts <file>', 'sftp://: known_hosts file (default ~/.ssh/known_hosts)')
    .option(
      '--host-key <fingerprint>',
      'sftp://: accept only this host key (SHA256:... as ssh-keygen -lf prints)',
    )
    .option('--accept-any-host-key', 'sftp://: do not verify the host key (logs a warning; tests only)')
    .option('-c, --connections <n>', 'most connections to the server', '5');
}

const human = (bytes: number): string =>
  bytes >= 1e6
    ? `${(bytes / 1e6).toFixed(2)} MB`
    : bytes >= 1e3
      ? `${(bytes / 1e3).toFixed(1)} kB`
      : `${bytes} B`;

export function registerFtpCommands(program: Command): void {
  registerLs(program);
  registerGet(program);
}

const SERVER_ARG_HELP = 'host, host:port, ftp[s]://user@host[:port]/path or sftp://user@host[:port]/path';

type LsOptions = ServerArgOptions & { pattern: string; recursive?: boolean; long?: boolean };

function registerLs(program: Command): void {
  addServerOptions(
    program
      .command('ls')
      .description('list files on an FTP, FTPS or SFTP server')
      .argument('<server>', SERVER_ARG_HELP)
      .argument('[path]', 'remote folder (default: the URL path, or /)')
      .option('-p, --pattern <glob>', 'glob on the path relative to the folder', '*')
      .option('-r, --recursive', 'walk sub-folders')
      .option('-l, --long', 'show size and modification time'),
  ).action(runLs);
}

async function runLs(server: string, path: string | undefined, opts: LsOptions): Promise<void> {
  const parsed = parseServerArg(server, opts);
  await using client = await openClient(parsed, { logger: await warnLogger() });
  const entries = await client.listEntries(path ?? parsed.path ?? '/', {
    pattern: opts.pattern,
    recursive: opts.recursive === true,
  });
  for (const e of entries) {
    if (opts.long === true) {
      console.log(
        `${String(e.size).padStart(12)}  ${e.modifiedAt?.toISOString() ?? '-'.padEnd(24)}  ${shown(e.path)}`,
      );
    } else console.log(shown(e.path)); // names come from the server: no escape sequence reaches the terminal
  }
}

type GetOptions = ServerArgOptions & { to: string; pattern?: string; recursive?: boolean; parallel: string };

function registerGet(program: Command): void {
  addServerOptions(
    program
      .command('get')
      .description('download files (in parallel, atomically: never a partial file under its final name)')
      .argument('<server>', SERVER_ARG_HELP)
      .argument('[paths...]', 'remote files; with --pattern, remote folders to list')
      .requiredOption('-t, --to <dir>', 'local folder')
      .option('-p, --pattern <glob>', 'download the files matching this glob in the given folders')
      .option('-r, --recursive', 'with --pattern: walk sub-folders')
      .addOption(new Option('-j, --parallel <n>', 'transfers at once').default('5')),
  ).action(runGet);
}

async function runGet(server: string, paths: string[], opts: GetOptions): Promise<void> {
  const parsed = parseServerArg(server, opts);
  const targets = paths.length > 0 ? paths : parsed.path !== undefined ? [parsed.path] : [];
  if (targets.length === 0) throw new InvalidArgumentError('paths', 'get needs at least one remote path');
  const maxConcurrent = Number(opts.parallel);
  await using client = await openClient(parsed, {
    maxConnections: Math.max(maxConcurrent, Number(opts.connections)),
    logger: await warnLogger(),
  });
  const files =
    opts.pattern === undefined
      ? targets
      : await listMatching(client, targets, opts.pattern, opts.recursive === true);
  const bar = process.stdout.isTTY === true ? progressBar() : null;
  bar?.start(files.length, 0, { bytes: human(0) });
  const started = Date.now();
  const result = await client.downloadFiles(files, opts.to, {
    maxConcurrent,
    onFileDone: reportFileDone(files, bar),
  });
  bar?.stop();
  reportBatch(result, bar, (Date.now() - started) / 1000);
}

/** `get --pattern`: the files matching it in each of the folders `dirs`. */
async function listMatching(
  client: AsyncFTPClient | AsyncSFTPClient,
  dirs: readonly string[],
  pattern: string,
  recursive: boolean,
): Promise<RemoteEntry[]> {
  const files: RemoteEntry[] = [];
  for (const dir of dirs) {
    files.push(...(await client.listEntries(dir, { pattern, recursive })));
  }
  return files;
}

/**
 * What `get` shows as each file ends: the progress bar with the bytes so far (sizes are known only
 * for listed files), or without a terminal one line per file.
 */
function reportFileDone(
  files: readonly (string | RemoteEntry)[],
  bar: SingleBar | null,
): NonNullable<DownloadFilesOptions['onFileDone']> {
  // one lookup per finished file: a scan of the list for each would be quadratic (a month of a
  // radar network is ~100,000 files)
  const sizes = new Map(files.flatMap((f) => (typeof f === 'string' ? [] : [[f.path, f.size] as const])));
  let bytes = 0;
  return ({ remotePath, localPath, error }) => {
    if (localPath !== undefined) bytes += sizes.get(remotePath) ?? 0;
    if (bar !== null) bar.increment({ bytes: human(bytes) });
    else if (error !== undefined) console.log(`FAILED ${shown(remotePath)}: ${shown(error.message)}`);
    else console.log(`ok ${shown(remotePath)} -> ${shown(localPath ?? '')}`);
  };
}

/** The summary line; the failures (already shown one per line without a bar); exit code 1 if any. */
function reportBatch(result: DownloadBatch, bar: SingleBar | null, secs: number): void {
  console.log(`${result.length} downloaded, ${result.failures.length} failed in ${secs.toFixed(2)} s`);
  if (bar !== null)
    for (const f of result.failures) console.log(`FAILED ${shown(f.remotePath)}: ${shown(f.error.message)}`);
  if (result.failures.length > 0) process.exitCode = 1;
}
