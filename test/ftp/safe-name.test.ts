/** src/ftp/safe-name.ts: which remote names may become local file names (case tables). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UnsafePathError } from '../../src/errors.js';
import { assertSafeLocalName, joinRemote, localNameForDownload } from '../../src/ftp/safe-name.js';
import { UNSAFE_LOCAL_NAMES } from '../helpers/hostile-names.js';

describe('assertSafeLocalName', () => {
  // The shared hostile names (other tests feed them to clients and the daemon) and a few more.
  const unsafe: { name: string; reason: RegExp }[] = [
    { name: '', reason: /empty name/ },
    { name: '.', reason: /folder/ },
    { name: 'a\r\nDELE x', reason: /NUL, CR or LF/ },
    { name: 'é'.repeat(128), reason: /longer than 255 bytes/ },
    ...UNSAFE_LOCAL_NAMES,
  ];
  for (const c of unsafe) {
    test(`refuses ${JSON.stringify(c.name.slice(0, 20))}`, () => {
      assert.throws(
        () => assertSafeLocalName(c.name, `/L2/${c.name}`),
        (err: unknown) =>
          err instanceof UnsafePathError && c.reason.test(err.message) && err.message.includes('/L2/'),
      );
    });
  }
  test('returns a safe name unchanged (255 bytes is still fine)', () => {
    for (const n of ['RMA1_0315_01_DBZH_20251020T152828Z.BUFR', '..a', 'a..', ' x', 'x'.repeat(255)]) {
      assert.equal(assertSafeLocalName(n), n);
    }
  });
});

test('joinRemote', () => {
  assert.equal(joinRemote('/L2', 'a'), '/L2/a');
  assert.equal(joinRemote('/L2/', 'a'), '/L2/a');
  assert.equal(joinRemote('/', 'a'), '/a');
  assert.equal(joinRemote('', 'a'), 'a');
  assert.equal(joinRemote('.', 'a'), 'a');
});

describe('localNameForDownload', () => {
  test('the remote base name, or the given local name, checked', () => {
    assert.equal(localNameForDownload('/L2/a.BUFR'), 'a.BUFR');
    assert.equal(localNameForDownload('/L2/a.BUFR', 'b.BUFR'), 'b.BUFR');
    assert.throws(() => localNameForDownload('/L2/a.BUFR', '../b'), UnsafePathError);
    assert.throws(() => localNameForDownload('/L2/'), UnsafePathError);
  });
  test('a listed entry whose name is not the last part of its path is refused', () => {
    assert.equal(localNameForDownload({ path: '/L2/a.BUFR', name: 'a.BUFR' }), 'a.BUFR');
    assert.throws(
      () => localNameForDownload({ path: '/L2/x', name: '../x' }),
      (err: unknown) => err instanceof UnsafePathError && /path separator/.test(err.message),
    );
    assert.throws(
      () => localNameForDownload({ path: '/L2/good.BUFR', name: 'other.BUFR' }),
      (err: unknown) => err instanceof UnsafePathError && /not the path's last part/.test(err.message),
    );
  });
});
