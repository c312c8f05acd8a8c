/** `HOST:PORT` bind addresses for the status server, and what counts as loopback. */
import { isIP } from 'node:net';
import { InvalidArgumentError } from '../errors.js';

/** Where the status server listens. */
export interface BindAddress {
  host: string;
  /** 0 picks a free port. */
  port: number;
}

/** The default: loopback only, so nothing is exposed unless asked. */
export const DEFAULT_BIND: BindAddress = { host: '127.0.0.1', port: 8080 };

/**
 * Parses `127.0.0.1:8080`, `[::1]:8080`, `localhost:0`, `:8080` (loopback) or `8080` (loopback).
 * @throws InvalidArgumentError naming `http`.
 */
export function parseBind(value: string): BindAddress {
  const text = value.trim();
  let host: string;
  let port: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (v6 !== null) [, host = '', port = ''] = v6;
  else if (/^\d+$/.test(text)) {
    host = DEFAULT_BIND.host;
    port = text;
  } else {
    const i = text.lastIndexOf(':');
    if (i < 0) throw new InvalidArgumentError('http', `expected HOST:PORT, got ${JSON.stringify(value)}`);
    host = text.slice(0, i) || DEFAULT_BIND.host;
    port = text.slice(i + 1);
    if (host.includes(':')) throw new InvalidArgumentError('http', `write IPv6 addresses as [${host}]:PORT`);
  }
  const n = Number(port);
  if (!/^\d+$/.test(port) || n > 65535) {
    throw new InvalidArgumentError('http', `port must be 0..65535, got ${JSON.stringify(port)}`);
  }
  return { host, port: n };
}

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h.startsWith('::ffff:127.');
}
