/**
 * The exec hook: runs the user's command once per downloaded file, with an explicit, minimal
 * environment and the file's values passed so that a hostile remote name cannot become code.
 *
 * - Environment: only `PATH`, `HOME`, `LANG`, `LC_ALL`, `LC_CTYPE`, `TZ`, `TMPDIR`, `USER`,
 *   `LOGNAME` from the daemon's own, the `RADAR_*` values of the file, and the names the user lists
 *   in `exec.env`. Nothing else is inherited: not `RADARLIB_PASSWORD`, the status token or the
 *   ledger URL, unless listed.
 * - Argument vector (no shell): `{path}`, `{remotePath}`, `{source}`, `{name}` are replaced in each
 *   argument, which stays one argument whatever it holds. A name may start with `-`: put `--`
 *   before it if the program parses options.
 * - A single string runs through `/bin/sh -c`, with the values only in the environment
 *   (`"$RADAR_FILE"`, quoted), never spliced into the script.
 * - A placeholder inside a shell's script argument (`['sh', '-c', 'echo {name}']`) would splice a
 *   remote name into shell code: `assertSafeExecCommand` refuses it when the config is read.
 */
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { remoteBaseName } from '../util/remote-path.js';

/**
 * A program run for every committed file (like LDM's EXEC); a non-zero exit is recorded as
 * that file's callback error.
 */
export interface ExecHook {
  /** Argument vector, or a `/bin/sh -c` script that reads the `RADAR_*` variables. */
  command: string | string[];
  /** Seconds before the command is killed. */
  timeout: number;
  /** Extra variables of the daemon's environment the hook may see. @default [] */
  env?: readonly string[];
}

/** What the hook is told about one file. */
export interface ExecHookFile {
  source: string;
  remotePath: string;
  localPath: string;
  size: number;
}

/** Inherited from the daemon's environment whatever the config says: what programs need to run. */
export const BASE_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR', 'USER', 'LOGNAME'];

const PLACEHOLDER = /\{(path|remotePath|source|name)\}/g;
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'busybox', 'fish', 'csh', 'tcsh']);
const STDERR_TAIL = 2000;

/**
 * Refuses an argument vector that runs a shell (`sh -c`, `bash -lc`, `env sh -c`) whose script
 * holds a placeholder: the remote name would be parsed as shell code.
 * @throws InvalidArgumentError naming the argument.
 */
export function assertSafeExecCommand(command: string | readonly string[]): void {
  if (typeof command === 'string') return;
  let i = 0;
  while (i < command.length && /^(env|\/usr\/bin\/env|nice|nohup|exec)$/.test(command[i] ?? '')) i++;
  if (!SHELLS.has(basename(command[i] ?? ''))) return;
  for (let j = i + 1; j < command.length - 1; j++) {
    if (!/^-[a-z]*c[a-z]*$/i.test(command[j] ?? '')) continue;
    const script = command[j + 1] ?? '';
    if (new RegExp(PLACEHOLDER.source).test(script)) {
      throw new InvalidArgumentError(
        'exec.command',
        `argument ${j + 1} is a shell script containing a placeholder; a remote file name would run as ` +
          'shell code. Use the environment instead: ["sh", "-c", "process -- \\"$RADAR_FILE\\""] (quoted), ' +
          'or an argument vector without a shell',
      );
    }
  }
}

/** The hook's whole environment: the base set, the listed names, and the file's values. */
export function execEnvironment(
  hook: Pick<ExecHook, 'env'>,
  file: ExecHookFile,
  parent: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...BASE_ENV, ...(hook.env ?? [])]) {
    const value = parent[name];
    if (value !== undefined) env[name] = value;
  }
  env['RADAR_FILE'] = file.localPath;
  env['RADAR_REMOTE_PATH'] = file.remotePath;
  env['RADAR_SOURCE'] = file.source;
  env['RADAR_SIZE'] = String(file.size);
  return env;
}

/** The program and its arguments for one file, placeholders filled in (never through a shell). */
export function execArgv(hook: Pick<ExecHook, 'command'>, file: ExecHookFile): [string, string[]] {
  if (typeof hook.command === 'string') return ['/bin/sh', ['-c', hook.command]];
  const values: Record<string, string> = {
    path: file.localPath,
    remotePath: file.remotePath,
    source: file.source,
    name: remoteBaseName(file.remotePath),
  };
  const [cmd = '', ...args] = hook.command;
  return [cmd, args.map((a) => a.replace(PLACEHOLDER, (_m, k: string) => values[k] ?? ''))];
}

/** Runs the exec hook for one file; rejects with a message when it fails or times out. */
export function runExecHook(hook: ExecHook, file: ExecHookFile, signal: AbortSignal): Promise<void> {
  const [cmd, args] = execArgv(hook, file);
  const shell = typeof hook.command === 'string';
  return new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: execEnvironment(hook, file),
      stdio: ['ignore', 'ignore', 'pipe'],
      signal,
      timeout: hook.timeout * 1000,
      killSignal: 'SIGTERM',
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL);
    });
    child.on('error', (err) => reject(new Error(`exec hook ${shell ? 'shell ' : ''}${cmd}: ${err.message}`)));
    child.on('close', (code, sig) => {
      if (code === 0) return resolve();
      const how = sig !== null ? `killed by ${sig}` : `exit code ${String(code)}`;
      const tail = stderr.trim() === '' ? '' : `: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
      reject(new Error(`exec hook ${how}${tail}`));
    });
  });
}
