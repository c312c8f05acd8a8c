/** The error-to-text helpers of src/errors.ts, as the ledger, the status page and metrics use them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  errorCode,
  errorMessage,
  errorText,
  FtpReplyError,
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
