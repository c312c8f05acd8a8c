import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListedSizes, LISTED_SIZE_TTL_MS } from '../../src/ftp/listed-sizes.js';

const path = (i: number): string =>
  `/L2/RMA1/2025/10/20/15/2828/RMA1_0315_01_DBZH_${String(i).padStart(7, '0')}.BUFR`;

test('a size listed within the TTL is returned; an older one is not', () => {
  const sizes = new ListedSizes();
  sizes.remember('/a.BUFR', 123, 1_000);
  assert.equal(sizes.get('/a.BUFR', 1_000 + LISTED_SIZE_TTL_MS), 123);
  assert.equal(sizes.get('/a.BUFR', 1_001 + LISTED_SIZE_TTL_MS), undefined);
  assert.equal(sizes.get('/b.BUFR', 1_000), undefined);
});

test('a listing larger than the budget keeps its newest entries, within the byte budget', () => {
  const budget = 64 * 1024;
  const sizes = new ListedSizes(budget);
  const n = 200_000;
  for (let i = 0; i < n; i++) sizes.remember(path(i), i, 0);
  assert.ok(sizes.bytes <= budget, `${sizes.bytes} bytes held`);
  const perEntry = path(0).length + 96;
  assert.equal(sizes.size, Math.floor(budget / perEntry));
  assert.equal(sizes.get(path(n - 1), 0), n - 1, 'the last listed is kept');
  assert.equal(sizes.get(path(n - sizes.size), 0), n - sizes.size, 'the oldest kept');
  assert.equal(sizes.get(path(n - sizes.size - 1), 0), undefined, 'older ones evicted');
});

test('listing a path again makes it the newest and updates its size', () => {
  const perEntry = path(0).length + 96;
  const sizes = new ListedSizes(perEntry * 3);
  for (let i = 0; i < 3; i++) sizes.remember(path(i), i, 0);
  sizes.remember(path(0), 500, 5);
  sizes.remember(path(3), 3, 6); // evicts path(1), now the oldest
  assert.equal(sizes.get(path(0), 6), 500);
  assert.equal(sizes.get(path(1), 6), undefined);
  assert.equal(sizes.size, 3);
  assert.equal(sizes.bytes, perEntry * 3);
});
