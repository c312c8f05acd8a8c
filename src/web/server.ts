/**
 * The status server: one HTML page (inline JS, no build step, refreshed by polling
 * `/api/status`), JSON endpoints, quick-look PNGs, `/metrics` (Prometheus) and `/healthz`, on
 * node:http. Attach it to a running daemon:
 *
 *   const status = await startStatusServer({ daemon, bind: '127.0.0.1:8080', logger });
 *   ...
 *   await status.close();
 *
 * Safety: binds to loopback by default; with a `token`, every route needs HTTP basic auth whose
 * password is the token (any user name); passwords of the sources never leave the process (only
 * the public source fields are copied, and every response body is scrubbed of them as a second
 * line of defence); the retry POST needs a custom header, which a cross-site form or `fetch`
 * cannot send without a CORS preflight this server never grants.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { SourceConfig } from '../daemon/config.js';
import type { DaemonEvents } from '../daemon/daemon.js';
import type { Ledger, StateCounts } from '../ledger/ledger.js';
import { DaemonMetrics } from './metrics.js';
import { silentLogger } from '../observe/log.js';
import { DEFAULT_BIND, isLoopback, parseBind, type BindAddress } from './bind.js';
import { renderStatusPage } from './page.js';
import { QuicklookCache } from './quicklook.js';
import { StatusTracker } from './tracker.js';

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
  /** Quick-look plot size, pixels. @default 480 */
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
  /** Stops listening, drops open connections and unsubscribes from the daemon. Idempotent. */
  close(): Promise<void>;
}

const MAX_BODY = 16 * 1024;
/** The header the page's retry button sends (see the CSRF note above). */
export const ACTION_HEADER = 'x-radarlib-action';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Secret strings to scrub from every response: source passwords and a ledger URL's password. */
function secretsOf(config: StatusDaemon['config']): string[] {
  const out = new Set<string>();
  for (const s of config.sources) if (s.password.length >= 3) out.add(s.password);
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@]*)@/i.exec(config.ledger);
  if (m?.[1] !== undefined && m[1].length >= 3) {
    out.add(m[1]);
    try {
      out.add(decodeURIComponent(m[1]));
    } catch {
      /* not URL-encoded */
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** The JSON the page renders (`GET /api/status`). */
export interface StatusSnapshot {
  generatedAt: string;
  startedAt: string;
  healthy: boolean;
  ledger: { backend: string | null; error: string | null };
  fields: string[];
  defaultField: string;
  sources: {
    name: string;
    host: string;
    port: number;
    remotePath: string;
    layout: string;
    pollInterval: number;
    cycles: number;
    lastPoll: {
      at: string;
      ok: boolean;
      error: string | null;
      durationMs: number;
      listed: number;
      added: number;
      downloaded: number;
      failed: number;
      skippedListing: boolean;
    } | null;
    nextPollAt: string | null;
    lastSuccessAt: string | null;
    healthy: boolean;
    healthReason: string | null;
    counts: (StateCounts & { done: number }) | null;
    radars: {
      radar: string;
      newestFileTime: string;
      lagSeconds: number;
      quicklooks: Record<string, { url: string; time: string; file: string }>;
    }[];
  }[];
  recentDownloads: {
    source: string;
    remotePath: string;
    name: string;
    size: number;
    at: string;
    durationMs: number | null;
    bytesPerSecond: number | null;
  }[];
  recentFailures: {
    source: string;
    remotePath: string;
    name: string;
    attempts: number;
    error: string;
    at: string;
    /** `failed`: parked, needs a retry; `retrying`: will be retried at `retryAt`. */
    state: 'failed' | 'retrying';
    retryAt: string | null;
  }[];
}

/** Starts the status server and resolves once it listens. */
export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const { daemon } = options;
  const log = (options.logger ?? silentLogger()).child({ module: 'web' });
  const bind = typeof options.bind === 'string' ? parseBind(options.bind) : (options.bind ?? DEFAULT_BIND);
  const now = options.now ?? Date.now;
  const token = options.token === undefined || options.token === '' ? null : options.token;
  const tokenDigest = token === null ? null : digest(token);
  const defaultField = options.field ?? 'DBZH';
  const size = options.quicklookSize ?? 480;
  const secrets = secretsOf(daemon.config);
  const loopback = isLoopback(bind.host);

  const tracker = new StatusTracker({
    sources: daemon.config.sources,
    now,
    ...(options.minHealthWindowMs === undefined ? {} : { minHealthWindowMs: options.minHealthWindowMs }),
  });
  const detachTracker = tracker.attach(daemon);
  const metrics = options.metrics ?? new DaemonMetrics({ now });
  const detachMetrics = options.attachMetrics === false ? () => undefined : metrics.attach(daemon);
  const quicklooks = new QuicklookCache();
  const ledgerOf = (): Ledger | null => options.ledger ?? daemon.ledger;

  const redact = (text: string): string => {
    let out = text;
    for (const s of secrets) out = out.split(s).join('[redacted]');
    return out;
  };

  async function snapshot(): Promise<StatusSnapshot> {
    const ledger = ledgerOf();
    let ledgerError: string | null = null;
    const t = now();
    const counts = new Map<string, StatusSnapshot['sources'][number]['counts']>();
    let failedRows: Awaited<ReturnType<Ledger['recent']>> = [];
    if (ledger !== null) {
      try {
        if (!tracker.seeded) await tracker.seed(ledger);
        for (const s of tracker.sources) {
          const c = await ledger.counts(s.name);
          counts.set(s.name, { ...c, done: c.downloaded + c.processed });
        }
        failedRows = await ledger.recent({ states: ['failed'], limit: 25 });
      } catch (err) {
        ledgerError = err instanceof Error ? err.message : String(err);
      }
    }
    const health = new Map(tracker.health().map((h) => [h.source, h]));
    const fields = new Set<string>();
    const sources = tracker.sources.map((s) => {
      const poll = tracker.lastPoll(s.name);
      const h = health.get(s.name);
      return {
        name: s.name,
        host: s.host,
        port: s.port,
        remotePath: s.remotePath,
        layout: s.layout,
        pollInterval: s.pollInterval,
        cycles: tracker.cycles(s.name),
        lastPoll: poll === null ? null : { ...poll, at: iso(poll.at) as string },
        nextPollAt: iso(tracker.nextPollAt(s.name)),
        lastSuccessAt: iso(h?.lastSuccessAt),
        healthy: h?.healthy ?? true,
        healthReason: h?.reason ?? null,
        counts: counts.get(s.name) ?? null,
        radars: tracker.radars(s.name).map((r) => {
          const quick: Record<string, { url: string; time: string; file: string }> = {};
          for (const [field, ref] of r.latest) {
            fields.add(field);
            const q = new URLSearchParams({ source: r.source, radar: r.radar, field, v: String(ref.id) });
            quick[field] = {
              url: `api/quicklook.png?${q.toString()}`,
              time: iso(ref.time) as string,
              file: baseName(ref.localPath),
            };
          }
          return {
            radar: r.radar,
            newestFileTime: iso(r.newest) as string,
            lagSeconds: Math.max(0, Math.round((t - r.newest) / 100) / 10),
            quicklooks: quick,
          };
        }),
      };
    });
    const parked = new Set(failedRows.map((r) => `${r.source}\u0000${r.remotePath}`));
    const recentFailures: StatusSnapshot['recentFailures'] = [
      ...failedRows.map((r) => ({
        source: r.source,
        remotePath: r.remotePath,
        name: baseName(r.remotePath),
        attempts: r.attempts,
        error: r.lastError ?? '',
        at: iso(r.updatedAt) as string,
        state: 'failed' as const,
        retryAt: null,
      })),
      ...tracker
        .recentRetries()
        .filter((r) => r.retryAt !== null && !parked.has(`${r.source}\u0000${r.remotePath}`))
        .map((r) => ({
          source: r.source,
          remotePath: r.remotePath,
          name: baseName(r.remotePath),
          attempts: r.attempts,
          error: r.error,
          at: iso(r.at) as string,
          state: 'retrying' as const,
          retryAt: iso(r.retryAt),
        })),
    ];
    return {
      generatedAt: iso(t) as string,
      startedAt: iso(tracker.startedAt) as string,
      healthy: sources.every((s) => s.healthy),
      ledger: { backend: ledger?.backend ?? null, error: ledgerError },
      fields: [...fields].sort((a, b) =>
        a === defaultField ? -1 : b === defaultField ? 1 : a.localeCompare(b),
      ),
      defaultField,
      sources,
      recentDownloads: tracker.recentDownloads().map((d) => ({
        source: d.source,
        remotePath: d.remotePath,
        name: baseName(d.remotePath),
        size: d.size,
        at: iso(d.at) as string,
        durationMs: d.durationMs,
        bytesPerSecond: d.bytesPerSecond,
      })),
      recentFailures,
    };
  }

  function send(
    res: ServerResponse,
    status: number,
    type: string,
    body: string | Buffer,
    headers: Record<string, string> = {},
  ): void {
    const payload = typeof body === 'string' ? Buffer.from(redact(body)) : body;
    res.writeHead(status, {
      'content-type': type,
      'content-length': String(payload.length),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      ...headers,
    });
    res.end(res.req.method === 'HEAD' ? undefined : payload);
  }

  const sendJson = (res: ServerResponse, status: number, value: unknown): void =>
    send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`);

  function authorized(req: IncomingMessage): boolean {
    if (tokenDigest === null) return true;
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
    if (m === null) return false;
    const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const password = colon < 0 ? decoded : decoded.slice(colon + 1);
    return timingSafeEqual(digest(password), tokenDigest);
  }

  /** On loopback without a token, refuse foreign Host names (DNS rebinding). */
  function hostAllowed(req: IncomingMessage): boolean {
    if (!loopback || token !== null) return true;
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    return host === '' || isLoopback(host);
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of req) {
      total += (chunk as Buffer).length;
      if (total > MAX_BODY) throw new HttpError(413, 'request body too large');
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://status.invalid');
    const method = req.method ?? 'GET';
    if (!hostAllowed(req)) throw new HttpError(403, 'forbidden host name');
    if (!authorized(req)) {
      send(res, 401, 'text/plain; charset=utf-8', 'authentication required\n', {
        'www-authenticate': 'Basic realm="radarlib", charset="UTF-8"',
      });
      return;
    }
    const isGet = method === 'GET' || method === 'HEAD';
    switch (url.pathname) {
      case '/':
      case '/index.html': {
        if (!isGet) throw new HttpError(405, 'use GET');
        const nonce = randomBytes(16).toString('base64');
        send(
          res,
          200,
          'text/html; charset=utf-8',
          renderStatusPage({ nonce, refreshMs: options.refreshMs ?? 2000 }),
          {
            'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
          },
        );
        return;
      }
      case '/api/status': {
        if (!isGet) throw new HttpError(405, 'use GET');
        sendJson(res, 200, await snapshot());
        return;
      }
      case '/api/quicklook.png': {
        if (!isGet) throw new HttpError(405, 'use GET');
        const source = url.searchParams.get('source') ?? '';
        const radar = url.searchParams.get('radar') ?? '';
        const field = url.searchParams.get('field') ?? defaultField;
        const requested = Number(url.searchParams.get('size') ?? size);
        const px = Number.isInteger(requested) && requested >= 64 && requested <= 2048 ? requested : size;
        const ref = tracker.latestVolume(source, radar, field);
        if (ref === null) throw new HttpError(404, `no ${field} volume of ${radar} in ${source} yet`);
        const png = await quicklooks.get(ref, px);
        send(res, 200, 'image/png', png, { 'x-radarlib-volume': baseName(ref.localPath) });
        return;
      }
      case '/api/retry': {
        if (method !== 'POST') throw new HttpError(405, 'use POST');
        if (req.headers[ACTION_HEADER] !== 'retry') {
          throw new HttpError(403, `missing ${ACTION_HEADER}: retry header`);
        }
        const text = await readBody(req);
        let source: string | undefined;
        if (text.trim() !== '') {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            throw new HttpError(400, 'body must be JSON: {"source": "name"} or {}');
          }
          const s = (body as { source?: unknown } | null)?.source;
          if (s !== undefined && s !== null && typeof s !== 'string')
            throw new HttpError(400, 'source must be a string');
          source = typeof s === 'string' && s !== '' ? s : undefined;
        }
        if (source !== undefined && !tracker.sources.some((x) => x.name === source)) {
          throw new HttpError(404, `unknown source ${JSON.stringify(source)}`);
        }
        const ledger = ledgerOf();
        if (ledger === null) throw new HttpError(503, 'the daemon has not opened its ledger yet');
        // The same call as `radarlib retry-failed [--source NAME]`.
        const requeued = await ledger.retryFailed(source);
        log.info({ source: source ?? null, requeued }, 'failed files re-queued from the status page');
        sendJson(res, 200, { requeued, source: source ?? null });
        return;
      }
      case '/metrics': {
        if (!isGet) throw new HttpError(405, 'use GET');
        send(res, 200, metrics.contentType, await metrics.metrics());
        return;
      }
      case '/healthz': {
        if (!isGet) throw new HttpError(405, 'use GET');
        const sources = tracker.health().map((h) => ({
          source: h.source,
          healthy: h.healthy,
          lastSuccessAt: iso(h.lastSuccessAt),
          windowSeconds: h.windowMs / 1000,
          reason: h.reason,
        }));
        const healthy = sources.every((s) => s.healthy);
        sendJson(res, healthy ? 200 : 503, { status: healthy ? 'ok' : 'unhealthy', sources });
        return;
      }
      default:
        throw new HttpError(404, 'not found');
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (status >= 500) log.warn({ err, url: req.url }, 'status request failed');
      if (res.headersSent) res.destroy();
      else sendJson(res, status, { error: message });
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(bind.port, bind.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost =
    address.address === '0.0.0.0' || address.address === '::'
      ? '127.0.0.1'
      : address.family === 'IPv6'
        ? `[${address.address}]`
        : address.address;
  const url = `http://${shownHost}:${address.port}/`;
  if (!loopback && token === null) {
    log.warn(
      { host: bind.host },
      'status page bound beyond loopback without a token: anyone who reaches it can see it',
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
    close() {
      closing ??= new Promise<void>((resolve) => {
        detachTracker();
        detachMetrics();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
