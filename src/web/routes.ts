/**
 * The status server's routes, as a table: path -> method and handler. Handlers get what they
 * need through `RouteContext` and answer with `send`/`sendJson` or throw an `HttpError` whose
 * text is fixed (request input is never echoed back).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import type { Ledger } from '../ledger/ledger.js';
import type { DaemonMetrics, PipelineSourceStats } from './metrics.js';
import { HttpError } from '../errors.js';
import { readBody, send, sendJson } from './http.js';
import { renderStatusPage } from './page.js';
import { QUICKLOOK_SIZES, type QuicklookCache } from './quicklook.js';
import { buildSnapshot, iso } from './snapshot.js';
import type { StatusTracker } from './tracker.js';

/** The header the page's retry button sends (see the CSRF note in server.ts). */
export const ACTION_HEADER = 'x-radarlib-action';

export interface RouteContext {
  tracker: StatusTracker;
  metrics: DaemonMetrics;
  quicklooks: QuicklookCache;
  ledger: () => Ledger | null;
  log: Logger;
  now: () => number;
  scrub: (text: string) => string;
  /** The daemon's pipeline figures per source, for the page. */
  pipeline: () => readonly PipelineSourceStats[];
  defaultField: string;
  quicklookSize: number;
  refreshMs: number;
}

export interface Route {
  /** `GET` routes answer `HEAD` too. */
  method: 'GET' | 'POST';
  handle(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
}

function page(ctx: RouteContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const nonce = randomBytes(16).toString('base64');
  send(res, 200, 'text/html; charset=utf-8', renderStatusPage({ nonce, refreshMs: ctx.refreshMs }), {
    'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  });
  return Promise.resolve();
}

async function status(ctx: RouteContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const snapshot = await buildSnapshot({
    tracker: ctx.tracker,
    ledger: ctx.ledger(),
    defaultField: ctx.defaultField,
    now: ctx.now(),
    scrub: ctx.scrub,
    pipeline: ctx.pipeline,
  });
  sendJson(res, 200, snapshot);
}

async function quicklook(
  ctx: RouteContext,
  _req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const q = url.searchParams;
  const sizeParam = q.get('size');
  const size = sizeParam === null ? ctx.quicklookSize : Number(sizeParam);
  if (size !== ctx.quicklookSize && !QUICKLOOK_SIZES.includes(size)) {
    throw new HttpError(
      400,
      `size must be one of ${[...new Set([ctx.quicklookSize, ...QUICKLOOK_SIZES])].join(', ')}`,
    );
  }
  const ref = ctx.tracker.latestVolume(
    q.get('source') ?? '',
    q.get('radar') ?? '',
    q.get('field') ?? ctx.defaultField,
  );
  if (ref === null) throw new HttpError(404, 'no volume of that radar and field yet');
  const png = await ctx.quicklooks.get(ref, size);
  send(res, 200, 'image/png', png, { 'x-radarlib-volume': basename(ref.localPath) });
}

/** `{"source": "name"}` or `{}` / empty: which source to retry (undefined = all). */
function retrySource(ctx: RouteContext, text: string): string | undefined {
  if (text.trim() === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'body must be JSON: {"source": "name"} or {}');
  }
  const s = (body as { source?: unknown } | null)?.source;
  if (s !== undefined && s !== null && typeof s !== 'string')
    throw new HttpError(400, 'source must be a string');
  const source = typeof s === 'string' && s !== '' ? s : undefined;
  if (source !== undefined && !ctx.tracker.sources.some((x) => x.name === source)) {
    throw new HttpError(404, 'unknown source');
  }
  return source;
}

async function retry(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.headers[ACTION_HEADER] !== 'retry')
    throw new HttpError(403, `missing ${ACTION_HEADER}: retry header`);
  const source = retrySource(ctx, await readBody(req));
  const ledger = ctx.ledger();
  if (ledger === null) throw new HttpError(503, 'the daemon has not opened its ledger yet');
  // The same call as `radarlib retry-failed [--source NAME]`.
  const requeued = await ledger.retryFailed(source);
  ctx.log.info({ source: source ?? null, requeued }, 'failed files re-queued from the status page');
  sendJson(res, 200, { requeued, source: source ?? null });
}

async function metrics(ctx: RouteContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  send(res, 200, ctx.metrics.contentType, await ctx.metrics.metrics());
}

function healthz(ctx: RouteContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const sources = ctx.tracker.health().map((h) => ({
    source: h.source,
    healthy: h.healthy,
    lastSuccessAt: iso(h.lastSuccessAt),
    windowSeconds: h.windowMs / 1000,
    reason: h.reason === null ? null : ctx.scrub(h.reason),
  }));
  const healthy = sources.every((s) => s.healthy);
  sendJson(res, healthy ? 200 : 503, { status: healthy ? 'ok' : 'unhealthy', sources });
  return Promise.resolve();
}

export const ROUTES: Readonly<Record<string, Route>> = {
  '/': { method: 'GET', handle: page },
  '/index.html': { method: 'GET', handle: page },
  '/api/status': { method: 'GET', handle: status },
  '/api/quicklook.png': { method: 'GET', handle: quicklook },
  '/api/retry': { method: 'POST', handle: retry },
  '/metrics': { method: 'GET', handle: metrics },
  '/healthz': { method: 'GET', handle: healthz },
};

/** The route for a request. @throws HttpError 404 / 405 */
export function routeFor(method: string, pathname: string): Route {
  const route = Object.hasOwn(ROUTES, pathname) ? ROUTES[pathname] : undefined;
  if (route === undefined) throw new HttpError(404, 'not found');
  const ok = route.method === 'GET' ? method === 'GET' || method === 'HEAD' : method === route.method;
  if (!ok)
    throw new HttpError(405, `use ${route.method}`, { allow: route.method === 'GET' ? 'GET, HEAD' : 'POST' });
  return route;
}
