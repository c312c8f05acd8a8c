/**
 * The HTTP plumbing of the status server: `HttpError`s (errors.ts) answered with their fixed
 * texts, one `send` that sets the safety headers, a bounded body reader, and the request target
 * parsed without ever throwing. Nothing here knows about the daemon.
 *
 * Error texts are constants chosen by the code, never built from the request: a response must
 * not reflect what the client sent (that is how a scrubber becomes an oracle, see docs/SECURITY.md).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../errors.js';

export const MAX_BODY = 16 * 1024;

export function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
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

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`, headers);
}

/** Sends an `HttpError` as `{"error": "<fixed text>"}`, or destroys a half-sent response. */
export function sendError(res: ServerResponse, err: HttpError): void {
  if (res.headersSent) res.destroy();
  else sendJson(res, err.status, { error: err.message }, err.headers);
}

/** Reads a request body of at most `MAX_BODY` bytes. @throws HttpError 413 */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > MAX_BODY) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The path and query of an origin-form request target (`/api/status?x=1`). Absolute-form targets
 * (`http://[`), `//…` and anything else are refused with a fixed 400, without a log line: a
 * client controls them entirely.
 */
export function requestTarget(rawUrl: string | undefined): URL {
  const raw = rawUrl ?? '/';
  if (!raw.startsWith('/') || raw.startsWith('//')) throw new HttpError(400, 'bad request target');
  try {
    return new URL(raw, 'http://status.invalid');
  } catch {
    throw new HttpError(400, 'bad request target');
  }
}
