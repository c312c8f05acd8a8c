/**
 * src/errors.ts: the error-to-text helpers as the ledger, the status page and metrics use them,
 * and the rule that every error class lives there and is a RadarlibError with a stable code.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as errors from '../src/errors.js';
import {
  errorCode,
  errorMessage,
  errorText,
  FtpReplyError,
  HttpError,
  QuicklookBusyError,
  QuicklookRenderError,
  RadarlibError,
  TableParseError,
  toError,
  UnsafePathError,
} from '../src/errors.js';

const reply = new FtpReplyError(550, 'No such file', {
  host: 'ftp.example',
  port: 21,
  command: 'RETR',
  remotePath: '/L2/a.BUFR',
});
const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/data/a'"), {
  code: 'ENOENT',
});

test('toError keeps errors and wraps anything else with its text', () => {
  assert.equal(toError(reply), reply);
  assert.equal(toError('plain text').message, 'plain text');
  assert.equal(toError(42).message, '42');
  assert.ok(toError(undefined) instanceof Error);
});

test('errorCode: the radarlib code, else a Node code, else the class name', () => {
  assert.equal(errorCode(reply), 'RADARLIB_FTP_REPLY');
  assert.equal(
    errorCode(new UnsafePathError('/L2/../x', 'contains a path separator')),
    'RADARLIB_UNSAFE_PATH',
  );
  assert.equal(errorCode(enoent), 'ENOENT');
  assert.equal(errorCode(new TypeError('x')), 'TypeError');
  assert.equal(errorCode(Object.assign(new RangeError('x'), { code: '' })), 'RangeError');
});

test('errorText puts the code first, once; errorMessage gives the message alone', () => {
  assert.equal(errorText(reply), `RADARLIB_FTP_REPLY: ${reply.message}`);
  assert.match(
    errorText(reply),
    /^RADARLIB_FTP_REPLY: FTP RETR \/L2\/a\.BUFR on ftp\.example:21: server replied 550/,
  );
  assert.equal(errorText(enoent), enoent.message, 'the code is not repeated');
  assert.equal(errorText(new TypeError('bad')), 'TypeError: bad');
  assert.equal(errorText('thrown string'), 'Error: thrown string');
  assert.equal(errorMessage(reply), reply.message);
  assert.equal(errorMessage('thrown string'), 'thrown string');
});

const SRC = fileURLToPath(new URL('../src', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('no error class is defined outside src/errors.ts', () => {
  const elsewhere = sourceFiles(SRC)
    .filter((f) => relative(SRC, f) !== 'errors.ts')
    .flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/\bclass\s+(\w+)\s+extends\s+(\w*Error)\b/g)].map(
        (m) => `${relative(SRC, f)}: ${m[1] ?? ''} extends ${m[2] ?? ''}`,
      ),
    );
  assert.deepEqual(elsewhere, []);
});

test('every error class in errors.ts is a RadarlibError with a RADARLIB_ code', () => {
  const prototypeOf = (v: unknown): unknown =>
    typeof v === 'function' ? (v as { prototype?: unknown }).prototype : undefined;
  const classes = Object.entries(errors).filter(([, v]) => prototypeOf(v) instanceof Error);
  assert.ok(classes.length >= 25, `found ${classes.length} classes`);
  for (const [name, cls] of classes) {
    if (cls === RadarlibError) continue;
    assert.ok(prototypeOf(cls) instanceof RadarlibError, `${name} extends RadarlibError`);
  }
});

test('the status page and table errors keep their texts, now with a code and their class name', () => {
  const http = new HttpError(405, 'use GET', { allow: 'GET, HEAD' });
  assert.equal(http.message, 'use GET', 'the text sent to the client, unchanged');
  assert.equal(http.status, 405);
  assert.deepEqual(http.headers, { allow: 'GET, HEAD' });
  assert.equal(errorText(http), 'RADARLIB_HTTP: use GET');
  assert.equal(http.name, 'HttpError');

  const render = new QuicklookRenderError(
    'Not a valid BUFR message (x): y',
    'RADARLIB_BUFR_FORMAT',
    'BufrFormatError',
  );
  assert.equal(render.code, 'RADARLIB_QUICKLOOK_RENDER');
  assert.equal(render.originalCode, 'RADARLIB_BUFR_FORMAT');
  assert.equal(render.errorName, 'BufrFormatError');
  assert.equal(render.message, 'Not a valid BUFR message (x): y');

  const busy = new QuicklookBusyError();
  assert.equal(errorText(busy), 'RADARLIB_QUICKLOOK_BUSY: too many quick-looks waiting to be rendered');

  const table = new TableParseError('bufrtabb_16.csv', 7, 'expected 8 fields, got 3');
  assert.equal(table.message, 'BUFR table bufrtabb_16.csv, line 7: expected 8 fields, got 3');
  assert.equal(table.code, 'RADARLIB_BUFR_TABLE');
  assert.equal(table.line, 7);
  assert.equal(table.name, 'TableParseError');
});
