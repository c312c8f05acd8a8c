/**
 * An FTP server inside this Node process, on loopback, serving a local folder.
 *
 * It is what `npm start` publishes the synthetic radar network on and what the default
 * `npm test` talks to, so both work on a fresh machine with only `npm ci`. It is built on
 * ftp-srv, with two additions the tests and the demo need: a connection cap that answers 421
 * (like vsftpd's `max_per_ip`), and per-file refusals (a 550, like a server that denies a file).
 */
import { once } from 'node:events';
import net from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import { FileSystem, FtpSrv, type FtpConnection } from 'ftp-srv';

/** Options of {@link startEmbeddedFtpServer}. */
export interface EmbeddedFtpOptions {
  /** Folder served as `/`. */
  root: string;
  /** @default 'radar' */
  user?: string;
  /** @default 'radar-secret' */
  password?: string;
  /** Control port; 0 picks a free one. @default 0 */
  port?: number;
  /** Connections beyond this many get `421` and are closed. @default unlimited */
  maxConnections?: number;
  /** Downloads of paths for which this returns true are refused with `550`. */
  refuse?: (remotePath: string) => boolean;
  /** Address announced in PASV replies (to test NAT handling). @default 127.0.0.1 */
  pasvAddress?: string;
  /** Wait this long before sending each file's data (makes transfer overlap observable). */
  readDelayMs?: number;
  /** Downloads of paths for which this returns true open the data connection and never send a byte. */
  stall?: (remotePath: string) => boolean;
}

/**
 * A running embedded FTP server: where it listens, the login, and controls for tests (a
 * connection cap, per-file refusals).
 */
export interface EmbeddedFtpServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly root: string;
  /** Connections open right now (for tests that measure real parallelism). */
  readonly connectionCount: number;
  /** Highest number of simultaneous connections seen. */
  readonly peakConnections: number;
  /** File bytes sent so far, per remote path (REST-resumed transfers count only what was sent). */
  readonly bytesServed: ReadonlyMap<string, number>;
  /**
   * The commands clients sent, oldest first (the last {@link COMMAND_LOG_LIMIT}; PASS arguments
   * hidden), so tests can assert what the server was asked (RETR, REST, LIST...).
   */
  readonly commands: readonly FtpCommandRecord[];
  /** Change the refusal rule while running. */
  setRefuse(refuse: ((remotePath: string) => boolean) | undefined): void;
  /** Closes the server and every client connection. */
  stop(): Promise<void>;
}

/** One command a client sent to the embedded server. */
export interface FtpCommandRecord {
  /** The command, upper case (`RETR`, `REST`, `LIST`...). */
  directive: string;
  /** Its argument as sent (`********` for PASS), or null. */
  arg: string | null;
}

/** How many commands the embedded server remembers (a long demo run stays bounded). */
export const COMMAND_LOG_LIMIT = 10_000;

/** A silent ftp-srv logger that records the commands it is told about ('Handle command'). */
function commandLog(commands: FtpCommandRecord[]): typeof silentLog {
  const log: typeof silentLog = {
    ...silentLog,
    child: () => log,
    trace: (fields?: unknown) => {
      const command = (fields as { command?: { directive?: unknown; arg?: unknown } } | undefined)?.command;
      if (typeof command?.directive !== 'string') return undefined;
      if (commands.length >= COMMAND_LOG_LIMIT) commands.shift();
      commands.push({
        directive: command.directive,
        arg: typeof command.arg === 'string' ? command.arg : null,
      });
      return undefined;
    },
  };
  return log;
}

// ftp-srv expects a bunyan logger; we keep it quiet (its errors reach clients as replies anyway).
const silentLog = {
  child: () => silentLog,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  fatal: () => undefined,
};

/** A port the kernel just gave out on `host` (closed again, free for the caller to listen on). */
async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface ReadRules {
  refuse: ((remotePath: string) => boolean) | undefined;
  stall: ((remotePath: string) => boolean) | undefined;
  readDelayMs: number;
  bytesServed: Map<string, number>;
}

/** ftp-srv's file system with the test hooks: refuse, stall, delay, and byte counting. */
class HookedFileSystem extends FileSystem {
  constructor(
    connection: FtpConnection,
    root: string,
    private readonly rules: ReadRules,
  ) {
    super(connection, { root, cwd: '/' });
  }

  override async read(fileName: string, options?: { start?: unknown }): Promise<unknown> {
    const { refuse, stall, readDelayMs, bytesServed } = this.rules;
    const remotePath = fileName.startsWith('/') ? fileName : `${this.cwd.replace(/\/$/, '')}/${fileName}`;
    if (refuse?.(remotePath) === true) {
      throw Object.assign(new Error('Permission denied (refused by test rule)'), { code: 550 });
    }
    if (readDelayMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, readDelayMs));
      // The client may have gone meanwhile; ftp-srv would then crash on the missing data socket.
      const connector = (this.connection as unknown as { connector?: { socket?: unknown } }).connector;
      if (connector?.socket == null) throw Object.assign(new Error('Data connection closed'), { code: 426 });
    }
    if (stall?.(remotePath) === true) return new PassThrough(); // never ends, never sends
    const result = (await super.read(fileName, options ?? {})) as { stream: Readable; clientPath: string };
    result.stream.on('data', (chunk: Buffer) => {
      bytesServed.set(remotePath, (bytesServed.get(remotePath) ?? 0) + chunk.length);
    });
    return result;
  }
}

/** Starts the server and resolves once it accepts connections. */
export async function startEmbeddedFtpServer(options: EmbeddedFtpOptions): Promise<EmbeddedFtpServer> {
  const host = '127.0.0.1';
  const user = options.user ?? 'radar';
  const password = options.password ?? 'radar-secret';
  const port = options.port !== undefined && options.port !== 0 ? options.port : await freePort();
  const rules: ReadRules = {
    refuse: options.refuse,
    stall: options.stall,
    readDelayMs: options.readDelayMs ?? 0,
    bytesServed: new Map(),
  };
  let peak = 0;
  const commands: FtpCommandRecord[] = [];

  // ftp-srv installs SIGTERM/SIGINT handlers that call process.exit(); the daemon and the demo
  // own those signals, so remove whatever the constructor adds.
  const before = new Map(
    (['SIGTERM', 'SIGINT', 'SIGQUIT'] as const).map((s) => [s, new Set(process.listeners(s))]),
  );
  const server = new FtpSrv({
    url: `ftp://${host}:${port}`,
    pasv_url: options.pasvAddress ?? host,
    pasv_min: 1024,
    anonymous: false,
    greeting: 'radarlib embedded FTP server',
    log: commandLog(commands),
  });
  // ftp-srv finds passive ports by counting up from pasv_min in each server on its own, so two
  // servers (or two processes) hand out one port at once and a data connection can reach another
  // session, whose RETR then waits forever. Ports the kernel picks at random do not collide so.
  (server as unknown as { getNextPasvPort: () => Promise<number> }).getNextPasvPort = () => freePort(host);
  for (const [signal, kept] of before) {
    for (const listener of process.listeners(signal)) {
      if (!kept.has(listener)) process.removeListener(signal, listener);
    }
  }

  const countConnections = (): number =>
    Object.keys((server as unknown as { connections: Record<string, unknown> }).connections).length;

  server.on('login', ({ connection, username, password: given }, resolve, reject) => {
    if (username !== user || given !== password) {
      reject(new Error('Login incorrect'));
      return;
    }
    resolve({ fs: new HookedFileSystem(connection, options.root, rules) });
  });
  if (options.maxConnections !== undefined) {
    const cap = options.maxConnections;
    // 'connect' fires before the greeting is sent: answer 421 instead of 220, like real servers.
    server.on('connect' as 'disconnect', ({ connection }) => {
      if (countConnections() > cap) {
        // end() flushes the reply before closing (ftp-srv's close() destroys the socket at once).
        const socket = (connection as unknown as { commandSocket: net.Socket }).commandSocket;
        socket.end('421 Too many connections from your IP\r\n');
      }
    });
  }
  server.on('connect' as 'disconnect', () => {
    peak = Math.max(peak, countConnections());
  });
  server.on('client-error', () => undefined);

  await server.listen();
  return {
    host,
    port,
    user,
    password,
    root: options.root,
    get connectionCount() {
      return countConnections();
    },
    get peakConnections() {
      return peak;
    },
    get commands() {
      return commands;
    },
    get bytesServed() {
      return rules.bytesServed;
    },
    setRefuse(rule) {
      rules.refuse = rule;
    },
    async stop() {
      await server.close();
    },
  };
}
