/**
 * The status server: one HTML page (inline JS, no build step, refreshed by polling
 * `/api/status`), JSON endpoints, quick-look PNGs, `/metrics` (Prometheus) and `/healthz`, on
 * node:http. Attach it to a running daemon:
 *
 *   const status = await startStatusServer({ daemon, bind: '127.0.0.1:8080', logger });
 *   ...
 *   await status.close();
 *
 * This file only wires the parts: connection limits (connections.ts), who may ask (auth.ts),
 * the route table (routes.ts), the snapshot (snapshot.ts), quick-looks rendered in a worker
 * (quicklook.ts). The guarantees are listed in docs/SECURITY.md; in short: loopback by default,
 * and beyond loopback only with a token (or `insecure: true`); sockets counted and capped when
 * accepted, before auth; short header/request/idle timeouts; fixed error texts (request input is
 * never echoed); secrets never copied into what a response is built from; the retry POST needs a
 * custom header, which a cross-site form or `fetch` cannot send without a CORS preflight this
 * server never grants.
 */
import type { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { SourceConfig } from '../daemon/config.js';
import type { DaemonEvents } from '../daemon/daemon.js';
import { HttpError, InvalidArgumentError } from '../errors.js';
import type { Ledger } from '../ledger/ledger.js';
import { DaemonMetrics, pipelineStatsOf } from './metrics.js';
import { silentLogger } from '../observe/log.js';
import { Gatekeeper } from './auth.js';
import { DEFAULT_BIND, isLoopback, parseBind, type BindAddress } from './bind.js';
import {
  DEADLINE_CHECK_MS,
  DEFAULT_CONNECTION_LIMITS,
  limitConnections,
  type ConnectionLimits,
  type ConnectionStats,
} from './connections.js';
import { requestTarget, send, sendError } from './http.js';
import { QuicklookCache } from './quicklook.js';
import { routeFor, type RouteContext } from './routes.js';
import { errorTextScrubber } from './secrets.js';
import { StatusTracker } from './tracker.js';

export { ACTION_HEADER } from './routes.js';
export type { StatusSnapshot } from './snapshot.js';

/** What the server needs from a daemon (an `FTPDaemon` fits). */
export interface StatusDaemon extends EventEmitter<DaemonEvents> {
  readonly config: { readonly sources: readonly SourceConfig[]; readonly ledger: string };
  /** The daemon's ledger once it has started. */
  readonly ledger: Ledger | null;
}

/** Options of {@link startStatusServer}. */
export interface StatusServerOptions {
  daemon: StatusDaemon;
  /** Ledger to read. @default the daemon's (once started) */
  ledger?: Ledger;
  /** `HOST:PORT` or an address; port 0 picks a free one. @default 127.0.0.1:8080 */
  bind?: string | BindAddress;
  /** Require HTTP basic auth with this password (any user name) on every route. */
  token?: string;
  /**
   * Allow a bind beyond loopback without a token (for a reverse proxy that authenticates).
   * Without it, such a bind is refused. @default false
   */
  insecure?: boolean;
  /** Host names accepted in the Host header when there is no token (IP literals and localhost always are). */
  allowedHosts?: readonly string[];
  /** Connection caps and timeouts. @default DEFAULT_CONNECTION_LIMITS */
  limits?: Partial<ConnectionLimits>;
  /** @default silent */
  logger?: Logger;
  /** Field shown in quick-looks first. @default 'DBZH' */
  field?: string;
  /** Metrics to serve (attached to the daemon here unless `attachMetrics: false`). @default new */
  metrics?: DaemonMetrics;
  /** Subscribe `metrics` to the daemon's events. @default true */
  attachMetrics?: boolean;
  /** How often the page refreshes, ms. @default 2000 */
  refreshMs?: number;
  /** Quick-look plot size, pixels; clients may also ask for one of `QUICKLOOK_SIZES`. @default 480 */
  quicklookSize?: number;
  /** See `StatusTrackerOptions.minHealthWindowMs`. @default 5000 */
  minHealthWindowMs?: number;
  /** Clock (epoch ms), for tests. @default Date.now */
  now?: () => number;
}

/** A running status server (see {@link startStatusServer}). */
export interface StatusServer {
  /** Where to point a browser, e.g. `http://127.0.0.1:8080/`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly tracker: StatusTracker;
  readonly metrics: DaemonMetrics;
  /** Open connections, and sockets refused at accept time by a cap. */
  connections(): ConnectionStats;
  /** Stops listening, drops open connections and unsubscribes from the daemon. Idempotent. */
  close(): Promise<void>;
}

function checkSize(size: number): number {
  if (!Number.isInteger(size) || size < 64 || size > 2048) {
    throw new InvalidArgumentError('quicklookSize', 'must be an integer from 64 to 2048');
  }
  return size;
}

function shownUrl(address: AddressInfo): string {
  const host =
    address.address === '0.0.0.0' || address.address === '::'
      ? '127.0.0.1'
      : address.family === 'IPv6'
        ? `[${address.address}]`
        : address.address;
  return `http://${host}:${address.port}/`;
}

function listen(server: Server, bind: BindAddress): Promise<AddressInfo> {
  return new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(bind.port, bind.host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Refuses a bind beyond loopback without a token unless `insecure`. @throws InvalidArgumentError */
function assertBindAllowed(bind: BindAddress, token: string | null, insecure: boolean): void {
  if (isLoopback(bind.host) || token !== null || insecure) return;
  throw new InvalidArgumentError(
    'http',
    `binding the status page to ${bind.host} (beyond loopback) needs a token (--http-token-file, --http-token or http.tokenFile) ` +
      'or an explicit --http-insecure (e.g. behind a reverse proxy that authenticates)',
  );
}

/**
 * Starts the status server and resolves once it listens.
 * @throws InvalidArgumentError when asked to bind beyond loopback without a token or `insecure`.
 */
export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const { daemon } = options;
  const log = (options.logger ?? silentLogger()).child({ module: 'web' });
  const bind = typeof options.bind === 'string' ? parseBind(options.bind) : (options.bind ?? DEFAULT_BIND);
  const now = options.now ?? Date.now;
  const token = options.token === undefined || options.token === '' ? null : options.token;
  assertBindAllowed(bind, token, options.insecure === true);
  const gate = new Gatekeeper({
    token,
    ...(options.allowedHosts === undefined ? {} : { allowedHosts: options.allowedHosts }),
    logger: log,
    now,
  });

  const tracker = new StatusTracker({
    sources: daemon.config.sources,
    now,
    ...(options.minHealthWindowMs === undefined ? {} : { minHealthWindowMs: options.minHealthWindowMs }),
  });
  const detachTracker = tracker.attach(daemon);
  const metrics = options.metrics ?? new DaemonMetrics({ now });
  const detachMetrics = options.attachMetrics === false ? () => undefined : metrics.attach(daemon);
  const quicklooks = new QuicklookCache({ logger: log });
  const ctx: RouteContext = {
    tracker,
    metrics,
    quicklooks,
    ledger: () => options.ledger ?? daemon.ledger,
    log,
    now,
    scrub: errorTextScrubber(daemon.config),
    pipeline: () => pipelineStatsOf(daemon)?.pipelineStats().sources ?? [],
    defaultField: options.field ?? 'DBZH',
    quicklookSize: checkSize(options.quicklookSize ?? 480),
    refreshMs: options.refreshMs ?? 2000,
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Who asks comes first: nothing of an unauthenticated request is parsed, logged or echoed.
    const verdict = gate.check(req);
    if (verdict === 'forbidden-host') throw new HttpError(403, 'forbidden host name');
    if (verdict === 'throttled') {
      throw new HttpError(429, 'too many failed attempts', {
        'retry-after': String(gate.retryAfterSeconds(req.socket.remoteAddress)),
      });
    }
    if (verdict === 'unauthorized') {
      send(res, 401, 'text/plain; charset=utf-8', 'authentication required\n', {
        'www-authenticate': 'Basic realm="radarlib", charset="UTF-8"',
      });
      return;
    }
    const url = requestTarget(req.url);
    await routeFor(req.method ?? 'GET', url.pathname).handle(ctx, req, res, url);
  }

  const server: Server = createServer({ connectionsCheckingInterval: DEADLINE_CHECK_MS }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return sendError(res, err);
      // A bug or a ledger failure: logged (the path only, never the query), answered without detail.
      log.warn({ err, path: req.url?.split('?')[0] }, 'status request failed');
      sendError(res, new HttpError(500, 'internal error'));
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  const connections = limitConnections(server, { ...DEFAULT_CONNECTION_LIMITS, ...options.limits });

  const address = await listen(server, bind);
  const url = shownUrl(address);
  if (!isLoopback(bind.host) && token === null) {
    log.warn(
      { host: bind.host },
      'status page bound beyond loopback without a token (--http-insecure): anyone who reaches it can see it',
    );
  }
  log.info({ url, auth: token !== null }, 'status page listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    host: address.address,
    port: address.port,
    tracker,
    metrics,
    connections,
    close() {
      closing ??= (async () => {
        detachTracker();
        detachMetrics();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await Promise.all([closed, quicklooks.close()]);
      })();
      return closing;
    },
  };
}
