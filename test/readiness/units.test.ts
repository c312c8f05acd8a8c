/**
 * The readiness model's pure parts: BUFR completeness, `.part` names for any name, the server
 * clock's zone arithmetic and learning. (The daemon-level rows run against real servers in
 * readiness.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bufrIncompleteness, verifyDownload } from '../../src/daemon/verify.js';
import { partNameFor } from '../../src/ftp/download.js';
import { ServerClock, wallToUtc, zoneOffsetMs } from '../../src/daemon/server-clock.js';
import { silentLogger } from '../../src/observe/log.js';
import { LocalIoError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'radarlib-readiness-units-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function bufr(size: number): Buffer {
  const b = Buffer.alloc(size, 0x55);
  b.write('BUFR', 0, 'latin1');
  b.writeUIntBE(size, 4, 3);
  b[7] = 4;
  b.write('7777', size - 4, 'latin1');
  return b;
}

function file(name: string, content: Buffer | string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

test('verify auto: whole BUFR messages pass; cut short, no 7777 or trailing bytes do not; other files pass', async () => {
  const whole = bufr(500);
  assert.equal(await bufrIncompleteness(file('whole.bufr', whole)), null);
  assert.equal(await bufrIncompleteness(file('two.bufr', Buffer.concat([whole, bufr(300)]))), null);
  assert.match(
    (await bufrIncompleteness(file('cut.bufr', whole.subarray(0, 200)))) ?? '',
    /declares 500 bytes from byte 0, the file has 200/,
  );
  const no7777 = Buffer.from(whole);
  no7777.write('0000', 496, 'latin1');
  assert.match((await bufrIncompleteness(file('no7777.bufr', no7777))) ?? '', /7777/);
  assert.notEqual(
    await bufrIncompleteness(file('trail.bufr', Buffer.concat([whole, Buffer.from('xyz')]))),
    null,
  );
  assert.equal(await bufrIncompleteness(file('text.txt', 'not a BUFR file')), null);
  assert.equal(await verifyDownload('none', join(dir, 'cut.bufr'), { remotePath: '/x', size: 200 }), null);
  assert.equal(
    await verifyDownload(async () => 'too small', join(dir, 'text.txt'), { remotePath: '/x', size: 1 }),
    'too small',
  );
  assert.equal(await verifyDownload(() => true, join(dir, 'text.txt'), { remotePath: '/x', size: 1 }), null);
});

test('.part names: keyed per writer, and short enough for a 255-byte name', () => {
  assert.equal(partNameFor('a.BUFR'), 'a.BUFR.part');
  const long = `${'é'.repeat(125)}.BUFR`; // 255 bytes: `<name>.part` would not fit
  assert.equal(Buffer.byteLength(long), 255);
  for (const key of [undefined, 'r1', 'r1-abcdef01']) {
    const part = partNameFor(long, key);
    assert.ok(Buffer.byteLength(part) <= 104, `${Buffer.byteLength(part)} bytes`);
    assert.ok(part.startsWith('.') && part.endsWith('.part'));
  }
  assert.notEqual(partNameFor('a.BUFR', 'r1'), partNameFor('a.BUFR', 'r2'), 'versions never share a .part');
  assert.notEqual(partNameFor('a.BUFR', 'r1-aaaaaaaa'), partNameFor('a.BUFR', 'r1-bbbbbbbb'), 'nor writers');
  assert.equal(partNameFor('a.BUFR', 'r1'), partNameFor('a.BUFR', 'r1'), 'a restart finds its own');
});

test('local errors: transient or permanent as they really are', () => {
  const err = (code: string): LocalIoError =>
    new LocalIoError('/data/x', `write failed (${code})`, {
      cause: Object.assign(new Error(code), { code }),
    });
  assert.equal(err('ENOSPC').transient, true);
  assert.equal(err('EDQUOT').transient, true);
  assert.equal(err('EACCES').transient, false);
  assert.equal(err('ENAMETOOLONG').transient, false);
  assert.match(err('ENAMETOOLONG').message, /ENAMETOOLONG/);
});

test('zone arithmetic: IANA offsets with daylight saving, wall time to UTC', () => {
  const jan = Date.UTC(2025, 0, 15, 12);
  const jul = Date.UTC(2025, 6, 15, 12);
  assert.equal(zoneOffsetMs('America/Argentina/Buenos_Aires', jan), -3 * 3_600_000);
  assert.equal(zoneOffsetMs('Europe/Moscow', jul), 3 * 3_600_000);
  assert.equal(zoneOffsetMs('Europe/Berlin', jan), 3_600_000);
  assert.equal(zoneOffsetMs('Europe/Berlin', jul), 2 * 3_600_000);
  // 12:00 on a Buenos Aires wall clock is 15:00 UTC.
  assert.equal(wallToUtc('America/Argentina/Buenos_Aires', jan), jan + 3 * 3_600_000);
  assert.equal(wallToUtc('Europe/Berlin', jul), jul - 2 * 3_600_000);
});

test('server clock auto: learns from MDTM, and from files changing when MDTM is local too', async () => {
  const now = Date.UTC(2025, 9, 20, 15, 0, 30);
  // A UTC-3 server with a proper MDTM: LIST 11:59 for a file modified 14:59:40 UTC.
  const wall = Date.UTC(2025, 9, 20, 11, 59);
  const mdtm = new ServerClock(
    'auto',
    async () => new Date(Date.UTC(2025, 9, 20, 14, 59, 40)),
    silentLogger(),
  );
  await mdtm.prepare([{ remotePath: '/a', wallMs: wall, precisionMs: 60_000 }], now);
  assert.equal(mdtm.learnedOffsetMs, -3 * 3_600_000);
  assert.equal(mdtm.toUtc(wall, now), Date.UTC(2025, 9, 20, 14, 59));
  // Without MDTM: UTC, until two changes agree.
  const none = new ServerClock('auto', async () => null, silentLogger());
  await none.prepare([{ remotePath: '/a', wallMs: wall, precisionMs: 60_000 }], now);
  assert.equal(none.toUtc(wall, now), wall);
  none.observeChange(Date.UTC(2025, 9, 20, 12, 0), 60_000, now - 2000, now);
  assert.equal(
    none.toUtc(wall, now),
    wall,
    'one change is not enough (could be an upload keeping its mtime)',
  );
  none.observeChange(Date.UTC(2025, 9, 20, 12, 0), 60_000, now - 1000, now + 1000);
  assert.equal(none.learnedOffsetMs, -3 * 3_600_000);
  // An mtime two days old on a changed file is no zone at all.
  const kept = new ServerClock('auto', null, silentLogger());
  kept.observeChange(now - 2 * 86_400_000, 60_000, now - 1000, now);
  kept.observeChange(now - 2 * 86_400_000, 60_000, now - 1000, now);
  assert.equal(kept.learnedOffsetMs, null);
  // An explicit zone needs no learning.
  const fixed = new ServerClock('Europe/Moscow', null, silentLogger());
  assert.equal(fixed.toUtc(Date.UTC(2025, 9, 20, 18, 0), now), Date.UTC(2025, 9, 20, 15, 0));
});
