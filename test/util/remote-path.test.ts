/** src/util/remote-path.ts: remote paths split on `/` only, whatever the local system. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { remoteBaseName } from '../../src/util/remote-path.js';

test('remoteBaseName: the part after the last slash', () => {
  const cases: [string, string][] = [
    [
      '/L2/RMA1/2025/10/20/15/2828/RMA1_0315_01_DBZH_20251020T152828Z.BUFR',
      'RMA1_0315_01_DBZH_20251020T152828Z.BUFR',
    ],
    ['a.BUFR', 'a.BUFR'],
    ['/a.BUFR', 'a.BUFR'],
    ['/L2/', ''],
    ['', ''],
    // A backslash is part of a remote name, not a separator (safe-name.ts refuses it later).
    ['/L2/a\\b.BUFR', 'a\\b.BUFR'],
  ];
  for (const [path, base] of cases) assert.equal(remoteBaseName(path), base, path);
});
