/**
 * A control-connection relay on loopback that holds a listing's `226` back, so a test can tell
 * what the client does between a listing's data end and the server's confirmation (ProFTPD sends
 * that `226` a round trip after the last byte; on loopback it races the data end). It can also
 * hold the reply to other commands (`holdReplyTo`: an EPSV, a data connection being prepared).
 *
 * Only control connections pass through it, line by line; data connections go straight to the
 * server (its EPSV/PASV replies name a port on 127.0.0.1, the address the client already uses).
 * Once a session's reply is held, its later replies wait behind it (order kept). A held reply is
 * released by `release()`, by a later listing command of any session that `releaseOn` accepts,
 * or after `maxHoldMs`.
 */
import { once } from 'node:events';
import net from 'node:net';

export interface ReplyGateOptions {
  upstreamHost: string;
  upstreamPort: number;
  /** Hold the `226` that ends a listing (MLSD/LIST/NLST) of this path. */
  holdListingOf: (path: string) => boolean;
  /** Hold the final reply to this command line (e.g. `EPSV`), asked once per reply. */
  holdReplyTo?: (command: string) => boolean;
  /** A listing of this path (any session) releases every held reply. */
  releaseOn?: (path: string) => boolean;
  /** A held reply goes on after this at the latest. @default 5000 */
  maxHoldMs?: number;
}

export interface ReplyGate {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Paths listed by the client, in the order the commands reached the relay. */
  readonly listings: readonly string[];
  /** Why each held reply went on: 'command' (releaseOn), 'release' or 'timeout'. */
  readonly released: readonly string[];
  /** Replies held right now. */
  readonly holding: number;
  /** Releases every held reply now. */
  release(): void;
  /** Stops listening and closes every connection. */
  stop(): Promise<void>;
}

const LISTING = /^(MLSD|LIST|NLST)(?: -a)?(?: (.*))?$/i;

interface Session {
  client: net.Socket;
  upstream: net.Socket;
  /** The path of the session's last listing command, or null (another command last). */
  listing: string | null;
  /** The session's last command line, without its CR LF. */
  command: string;
  /** Replies waiting behind a held one (the first is the held `226`). */
  queued: string[];
}

export async function startReplyGate(options: ReplyGateOptions): Promise<ReplyGate> {
  const sessions = new Set<Session>();
  const listings: string[] = [];
  const released: string[] = [];
  const maxHoldMs = options.maxHoldMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;

  const releaseAll = (why: string): void => {
    clearTimeout(timer);
    timer = undefined;
    for (const s of sessions) {
      if (s.queued.length === 0) continue;
      released.push(why);
      s.client.write(s.queued.join(''), 'latin1');
      s.queued = [];
    }
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(options.upstreamPort, options.upstreamHost);
    const session: Session = { client, upstream, listing: null, command: '', queued: [] };
    sessions.add(session);
    const end = (): void => {
      sessions.delete(session);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    lines(client, (line) => {
      session.command = line.trimEnd();
      const m = LISTING.exec(session.command);
      session.listing = m === null ? null : (m[2] ?? '');
      if (m !== null) {
        listings.push(session.listing ?? '');
        if (options.releaseOn?.(session.listing ?? '') === true) releaseAll('command');
      }
      upstream.write(line, 'latin1');
    });
    lines(upstream, (line) => {
      if (session.queued.length > 0) {
        session.queued.push(line);
        return;
      }
      const listingEnd =
        line.startsWith('226') && session.listing !== null && options.holdListingOf(session.listing);
      if (listingEnd || (/^\d{3} /.test(line) && options.holdReplyTo?.(session.command) === true)) {
        session.queued.push(line);
        timer ??= setTimeout(() => releaseAll('timeout'), maxHoldMs);
        return;
      }
      client.write(line, 'latin1');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    listings,
    released,
    get holding() {
      return [...sessions].filter((s) => s.queued.length > 0).length;
    },
    release: () => releaseAll('release'),
    async stop() {
      clearTimeout(timer);
      for (const s of sessions) {
        s.client.destroy();
        s.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Calls `onLine` with each `\n`-terminated line (terminator kept) read from `socket`. */
function lines(socket: net.Socket, onLine: (line: string) => void): void {
  let buffered = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      onLine(buffered.slice(0, nl + 1));
      buffered = buffered.slice(nl + 1);
    }
  });
}
