/**
 * Limits on what the HTTP side may hold, so it can never starve the daemon that shares its
 * process of file descriptors: a total connection cap, a per-client cap (counted when the socket
 * is accepted, before any byte of a request, let alone auth, is read), and short timeouts for
 * headers (a silent socket counts as one waiting for its headers), whole requests and idle
 * keep-alive sockets.
 *
 * A socket over a cap is destroyed at once: it costs one descriptor for microseconds.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Caps and timeouts of the status server's connections. */
export interface ConnectionLimits {
  /** Open connections in total. @default 64 */
  maxConnections: number;
  /** Open connections from one remote address. @default 32 */
  maxConnectionsPerClient: number;
  /** Time to receive a request's headers, ms. @default 5000 */
  headersTimeoutMs: number;
  /** Time to receive a whole request (headers and body), ms. @default 10 000 */
  requestTimeoutMs: number;
  /** A kept-alive socket between requests is closed after this, ms. @default 5000 */
  keepAliveTimeoutMs: number;
  /**
   * Backstop: a socket with no traffic at all for this long is closed, whatever it waits for (a
   * client that stopped reading its response). Longer than the longest legitimate wait (a
   * quick-look behind a full render queue), ms. @default 60 000
   */
  idleTimeoutMs: number;
}

/** The status server's default connection caps and timeouts. */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 64,
  maxConnectionsPerClient: 32,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5000,
  idleTimeoutMs: 60_000,
};

/** How often node:http checks the header and request deadlines (its default is 30 s). */
export const DEADLINE_CHECK_MS = 500;

/** The status server's connections right now, and how many were refused or timed out. */
export interface ConnectionStats {
  open: number;
  /** Sockets destroyed at accept time because a cap was reached (since start). */
  refused: number;
}

/** Applies `limits` to `server`; returns live counters. */
export function limitConnections(server: Server, limits: ConnectionLimits): () => ConnectionStats {
  const perClient = new Map<string, number>();
  let open = 0;
  let refused = 0;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.setTimeout(limits.idleTimeoutMs, (socket: Socket) => socket.destroy());
  server.on('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? '?';
    const mine = perClient.get(client) ?? 0;
    if (open >= limits.maxConnections || mine >= limits.maxConnectionsPerClient) {
      refused++;
      socket.destroy();
      return;
    }
    open++;
    perClient.set(client, mine + 1);
    socket.once('close', () => {
      open--;
      const left = (perClient.get(client) ?? 1) - 1;
      if (left <= 0) perClient.delete(client);
      else perClient.set(client, left);
    });
  });
  return () => ({ open, refused });
}
