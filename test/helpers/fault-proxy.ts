/**
 * A fault-injecting TCP proxy for plain FTP, on loopback: the client talks to the proxy, the
 * proxy talks to a real server, and on the way it breaks things on purpose.
 *
 * Control connections are relayed line by line. `227` (PASV) and `229` (EPSV) replies are
 * rewritten to a one-shot listener of the proxy, which relays that data connection to the server's
 * announced port, so data connections go through the proxy too and can be cut, stalled or slowed.
 *
 * Faults (all decided with a seeded PRNG, so a run can be replayed):
 *   - reset:  a transfer is cut with a TCP RST after a random number of bytes, on the data or the
 *             control connection (`resetRate`, `resetTarget`, `resetAfterBytes`);
 *   - stall:  a transfer stops forwarding after some bytes and never sends another one
 *             (`stallRate`); a reply to a command is never forwarded (`controlStallRate`);
 *   - delay:  every server-to-client chunk waits `delayMs` first;
 *   - refuse: new connections are reset at once (`refuse`), as when the server is down;
 *   - busy:   a new connection is greeted with `421` instead of the server's greeting
 *             (`loginBusyRate`);
 *   - reply:  `RETR <path>` is answered with a chosen code (450, 451, 550...) instead of being
 *             forwarded (`retrReply`).
 *
 * Only plain FTP: after `AUTH TLS` the proxy could not read or rewrite the PASV replies.
 * Everything is bounded: connections (`maxConnections`), line length, data listeners (closed
 * after 30 s unused), and `stop()` destroys every socket, including stalled ones.
 */
import { once } from 'node:events';
import net from 'node:net';
import { sleep } from './wait.js';
import { seededRandom as mulberry32 } from '../../src/util/prng.js';

export interface FaultRules {
  /** Probability (0..1) that a transfer is cut with a TCP reset midway. @default 0 */
  resetRate?: number;
  /** Which connection a reset hits; `either` picks one at random per fault. @default 'either' */
  resetTarget?: 'data' | 'control' | 'either';
  /** A reset or stall happens after this many bytes of the transfer (uniform). @default [1, 16384] */
  faultAfterBytes?: readonly [number, number];
  /** Probability (0..1) that a transfer stops forwarding forever midway. @default 0 */
  stallRate?: number;
  /** Probability (0..1) that the reply to a command (after login) is never forwarded. @default 0 */
  controlStallRate?: number;
  /** Milliseconds each server-to-client chunk (control and data) waits before it is forwarded. */
  delayMs?: number;
  /** Reset every new connection at once (a server that is down). @default false */
  refuse?: boolean;
  /** Probability (0..1) that a new connection is greeted with `421` and closed. @default 0 */
  loginBusyRate?: number;
  /** Decides the `421` greeting by control connection number (from 1) instead of the rate. */
  loginBusy?: (connection: number) => boolean;
  /**
   * Reply code for `RETR <path>` (its `attempt`-th RETR, from 1) instead of forwarding it, or
   * null to forward.
   */
  retrReply?: (remotePath: string, attempt: number) => number | null;
  /** Apply reset/stall faults to listings (LIST/MLSD/NLST) too, not only to RETR. @default false */
  faultListings?: boolean;
}

export interface FaultProxyOptions extends FaultRules {
  /** The real server. */
  upstreamHost: string;
  upstreamPort: number;
  /** PRNG seed. @default 1 */
  seed?: number;
  /** Connections (control + data) open at once before new ones are reset. @default 256 */
  maxConnections?: number;
}

export interface FaultStats {
  controlConnections: number;
  dataConnections: number;
  resetsData: number;
  resetsControl: number;
  stallsData: number;
  stallsControl: number;
  refused: number;
  busy421: number;
  /** Injected RETR replies, by code. */
  injectedReplies: Record<number, number>;
  /** RETR commands seen (forwarded or answered), by path. */
  retrByPath: Map<string, number>;
}

export interface FaultProxy {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly stats: FaultStats;
  /** Replace some or all rules while running (for example `{ refuse: true }` during a restart). */
  setRules(rules: Partial<FaultRules>): void;
  /** Point new connections at another server port (a restarted server). */
  setUpstream(port: number, host?: string): void;
  /** Reset every open connection now (the server died). */
  resetAll(): void;
  /** Stops listening and destroys every connection. Idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
/** A control line longer than this is not FTP: the connection is reset. */
const MAX_LINE = 64 * 1024;
/** A data listener nobody connects to is closed after this. */
const DATA_LISTEN_MS = 30_000;

function reset(socket: net.Socket): void {
  if (socket.destroyed) return;
  // A real RST (ECONNRESET on the peer), not an orderly FIN.
  if (typeof socket.resetAndDestroy === 'function' && socket.readyState !== 'opening')
    socket.resetAndDestroy();
  else socket.destroy();
}

interface Session {
  client: net.Socket;
  upstream: net.Socket;
  /** The last transfer command (RETR, LIST...), decides whether a data connection gets faults. */
  lastTransfer: string;
  /** Replies are swallowed from now on. */
  stalled: boolean;
  loggedIn: boolean;
  data: Set<net.Socket>;
  listeners: Set<net.Server>;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  let rules: FaultRules = { ...options };
  let upstreamHost = options.upstreamHost;
  let upstreamPort = options.upstreamPort;
  const rand = mulberry32(options.seed ?? 1);
  const maxConnections = options.maxConnections ?? 256;
  const sockets = new Set<net.Socket>();
  const servers = new Set<net.Server>();
  const sessions = new Set<Session>();
  let stopping = false;
  const stats: FaultStats = {
    controlConnections: 0,
    dataConnections: 0,
    resetsData: 0,
    resetsControl: 0,
    stallsData: 0,
    stallsControl: 0,
    refused: 0,
    busy421: 0,
    injectedReplies: {},
    retrByPath: new Map(),
  };

  const track = (s: net.Socket): net.Socket => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    return s;
  };
  const between = ([lo, hi]: readonly [number, number]): number => lo + Math.floor(rand() * (hi - lo + 1));

  /** A one-shot listener relaying one data connection to the server's `port`; returns our port. */
  async function openDataRelay(session: Session, port: number, host: string): Promise<number> {
    const listener = net.createServer({ pauseOnConnect: true });
    servers.add(listener);
    session.listeners.add(listener);
    const closeListener = (): void => {
      clearTimeout(timer);
      listener.close();
      servers.delete(listener);
      session.listeners.delete(listener);
    };
    const timer = setTimeout(closeListener, DATA_LISTEN_MS).unref();
    listener.on('error', closeListener);
    listener.once('connection', (down: net.Socket) => {
      closeListener();
      track(down);
      stats.dataConnections++;
      if (stopping || session.client.destroyed) {
        reset(down);
        return;
      }
      session.data.add(down);
      const up = track(net.connect({ host, port }));
      session.data.add(up);
      const end = (): void => {
        down.destroy();
        up.destroy();
      };
      up.on('error', () => reset(down));
      down.on('error', () => up.destroy());
      // Decide this transfer's fault at its first byte, when the command is known.
      let decided = false;
      let cutAt = Infinity;
      let fault: 'reset-data' | 'reset-control' | 'stall' | null = null;
      let stalledNow = false;
      let sent = 0;
      let chain = Promise.resolve();
      up.on('close', () => {
        // After what is queued has been forwarded; a stalled transfer never ends.
        chain = chain.then(() => {
          if (!down.destroyed && !stalledNow) down.end();
        });
      });
      down.on('close', () => up.destroy());
      down.pipe(up); // client-to-server data (uploads): forwarded as is
      down.resume();
      up.on('data', (chunk: Buffer) => {
        if (!decided) {
          decided = true;
          const isRetr = session.lastTransfer === 'RETR';
          if (isRetr || rules.faultListings === true) {
            const range = rules.faultAfterBytes ?? [1, 16_384];
            if (rand() < (rules.resetRate ?? 0)) {
              const target = rules.resetTarget ?? 'either';
              const control = target === 'control' || (target === 'either' && rand() < 0.5);
              fault = control ? 'reset-control' : 'reset-data';
              cutAt = between(range);
            } else if (rand() < (rules.stallRate ?? 0)) {
              fault = 'stall';
              cutAt = between(range);
            }
          }
        }
        up.pause();
        chain = chain.then(async () => {
          if ((rules.delayMs ?? 0) > 0) await sleep(rules.delayMs ?? 0);
          if (down.destroyed) return end();
          if (stalledNow) return;
          if (sent + chunk.length < cutAt) {
            sent += chunk.length;
            if (down.write(chunk)) up.resume();
            else down.once('drain', () => up.resume());
            return;
          }
          // The fault point is inside this chunk: send up to it, then break.
          const head = chunk.subarray(0, Math.max(0, cutAt - sent));
          sent = cutAt;
          if (head.length > 0) down.write(head);
          if (fault === 'stall') {
            stats.stallsData++;
            stalledNow = true; // the transfer stays paused until the client gives up
            return;
          }
          if (fault === 'reset-control') {
            stats.resetsControl++;
            reset(session.client);
            session.upstream.destroy();
          } else stats.resetsData++;
          reset(down);
          up.destroy();
        });
      });
    });
    listener.listen(0, HOST);
    await once(listener, 'listening');
    return (listener.address() as net.AddressInfo).port;
  }

  async function rewriteReply(session: Session, line: string): Promise<string> {
    const pasv = /^227 .*?(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/.exec(line);
    if (pasv !== null) {
      const port = Number(pasv[5]) * 256 + Number(pasv[6]);
      const ours = await openDataRelay(session, port, upstreamHost);
      return `227 Entering Passive Mode (127,0,0,1,${ours >> 8},${ours & 255}).\r\n`;
    }
    const epsv = /^229 .*\(\|\|\|(\d+)\|\)/.exec(line);
    if (epsv !== null) {
      const ours = await openDataRelay(session, Number(epsv[1]), upstreamHost);
      return `229 Entering Extended Passive Mode (|||${ours}|)\r\n`;
    }
    if (/^230[ -]/.test(line)) session.loggedIn = true;
    return line;
  }

  /** Splits a stream into CRLF/LF-terminated lines (bounded), calling `onLine` in order. */
  function lines(socket: net.Socket, onLine: (line: string) => Promise<void> | void): void {
    let buf = '';
    let chain = Promise.resolve();
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      buf += text;
      if (buf.length > MAX_LINE) {
        reset(socket);
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl + 1);
        buf = buf.slice(nl + 1);
        chain = chain.then(() => onLine(line)).catch(() => reset(socket));
      }
    });
  }

  function onControl(client: net.Socket): void {
    track(client);
    if (stopping || sockets.size > maxConnections || rules.refuse === true) {
      stats.refused++;
      reset(client);
      return;
    }
    stats.controlConnections++;
    if (rules.loginBusy?.(stats.controlConnections) ?? rand() < (rules.loginBusyRate ?? 0)) {
      stats.busy421++;
      client.end('421 Too many connections (fault proxy)\r\n');
      return;
    }
    const upstream = track(net.connect({ host: upstreamHost, port: upstreamPort }));
    const session: Session = {
      client,
      upstream,
      lastTransfer: '',
      stalled: false,
      loggedIn: false,
      data: new Set(),
      listeners: new Set(),
    };
    sessions.add(session);
    const closeAll = (): void => {
      sessions.delete(session);
      for (const l of session.listeners) l.close();
      for (const d of session.data) d.destroy();
    };
    upstream.on('error', () => reset(client));
    upstream.on('close', () => {
      if (!client.destroyed) client.end();
      closeAll();
    });
    client.on('close', () => {
      upstream.destroy();
      closeAll();
    });

    lines(client, (line) => {
      const m = /^(\S+)(?: (.*?))?\r?\n$/.exec(line);
      const verb = (m?.[1] ?? '').toUpperCase();
      const arg = m?.[2] ?? '';
      if (['RETR', 'LIST', 'MLSD', 'NLST', 'STOR'].includes(verb)) session.lastTransfer = verb;
      if (verb === 'RETR') {
        const attempt = (stats.retrByPath.get(arg) ?? 0) + 1;
        stats.retrByPath.set(arg, attempt);
        const code = rules.retrReply?.(arg, attempt) ?? null;
        if (code !== null) {
          stats.injectedReplies[code] = (stats.injectedReplies[code] ?? 0) + 1;
          for (const d of session.data) d.destroy();
          client.write(`${code} Injected by the fault proxy for ${arg}\r\n`);
          return;
        }
      }
      if (session.loggedIn && !session.stalled && rand() < (rules.controlStallRate ?? 0)) {
        session.stalled = true;
        stats.stallsControl++;
      }
      upstream.write(line, 'latin1');
    });
    lines(upstream, async (line) => {
      const out = await rewriteReply(session, line);
      if ((rules.delayMs ?? 0) > 0) await sleep(rules.delayMs ?? 0);
      if (session.stalled || client.destroyed) return;
      client.write(out, 'latin1');
    });
  }

  const server = net.createServer(onControl);
  server.listen(0, HOST);
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  let stopped: Promise<void> | undefined;

  return {
    host: HOST,
    port,
    stats,
    setRules(next) {
      rules = { ...rules, ...next };
    },
    setUpstream(nextPort, host) {
      upstreamPort = nextPort;
      if (host !== undefined) upstreamHost = host;
    },
    resetAll() {
      for (const s of [...sockets]) reset(s);
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const l of servers) l.close();
        servers.clear();
        for (const s of [...sockets]) s.destroy();
        await closed;
      })();
      return stopped;
    },
  };
}
