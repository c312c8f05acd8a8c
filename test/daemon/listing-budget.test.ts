/**
 * The listing budget's decisions (pure, clock passed in) and the minute-folder time rules of
 * src/radar/tree.ts that let full and hot rounds skip unchanged folders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListingBudget, MIN_DETECTION_SHARE } from '../../src/daemon/listing-budget.js';
import {
  createTreeMemory,
  folderCovered,
  minuteFolderHot,
  minuteFolderStart,
  noteFolderListed,
  noteFolderTime,
  resetTreeMemory,
  CLOCK_SKEW_MARGIN_MS,
} from '../../src/radar/tree.js';

const T0 = Date.UTC(2026, 11, 2, 4, 0, 0);

test('hot rounds get what full rounds and follow-ups leave of the budget', () => {
  const budget = new ListingBudget({ perMinute: 60, hotIntervalMs: 3000, pollIntervalMs: 60_000 });
  // Nothing spent yet: 3 hour folders a round, 60 a minute -> a round every 3 s (= hotInterval).
  assert.equal(budget.hotGapMs(3, T0), 3000);
  // One radar: never more often than hotInterval.
  assert.equal(budget.hotGapMs(1, T0), 3000);
  // A full round of 16 listings a minute, 14 follow-ups in the last minute: 30 left, 3 a round.
  budget.fullRound(16);
  budget.followUps(14, T0 + 1000);
  assert.equal(budget.detectionPerMinute(T0 + 2000), 30);
  assert.equal(budget.hotGapMs(3, T0 + 2000), 6000);
  // The follow-ups leave the window after a minute.
  assert.equal(budget.hotGapMs(3, T0 + 62_000), Math.max(3000, (3 * 60_000) / 44));
  // A first walk of 170 listings: detection keeps its minimum share.
  budget.fullRound(170);
  assert.equal(budget.detectionPerMinute(T0 + 70_000), 60 * MIN_DETECTION_SHARE);
  assert.equal(budget.hotGapMs(3, T0 + 70_000), 12_000);
  // No budget: hotInterval.
  const none = new ListingBudget({ perMinute: 0, hotIntervalMs: 3000, pollIntervalMs: 60_000 });
  none.fullRound(500);
  assert.equal(none.hotGapMs(3, T0), 3000);
});

test('a minute folder is covered once a listing started a precision period after its time changed', () => {
  const memory = createTreeMemory();
  const path = '/L2/RMA1/2026/12/02/04/0000';
  // LIST `hh:mm` (server zone): changed when first seen; a listing 30 s later does not cover a
  // change later in the same minute, one 60 s later does.
  const listTime = { mtime: T0, precisionMs: 60_000, inServerZone: true };
  const s = noteFolderTime(memory, path, listTime, T0 + 5000, true);
  assert.equal(s.changedAt, T0 + 5000);
  noteFolderListed(memory, path, T0 + 35_000);
  assert.equal(folderCovered(memory.folderTimes.get(path)), false);
  noteFolderListed(memory, path, T0 + 65_000);
  assert.equal(folderCovered(memory.folderTimes.get(path)), true);
  // The time shown changes: not covered until listed again (a precision period later).
  const changed = noteFolderTime(memory, path, { ...listTime, mtime: T0 + 60_000 }, T0 + 70_000, true);
  assert.equal(changed.baseline, false, 'a change is not a first sighting');
  assert.equal(folderCovered(changed), false);
  assert.equal(minuteFolderHot(changed), true, 'hot rounds list a changed folder');
  noteFolderListed(memory, path, T0 + 71_000);
  assert.equal(minuteFolderHot(changed), true, 'until 15 s after the change (LIST minutes)');
  noteFolderListed(memory, path, T0 + 86_000);
  assert.equal(minuteFolderHot(changed), false);
  assert.equal(folderCovered(changed), false, 'full rounds wait the whole minute');
  // No time shown: never covered (always listed by full rounds).
  const none = noteFolderTime(
    memory,
    `${path}x`,
    { mtime: null, precisionMs: 1000, inServerZone: false },
    T0,
    true,
  );
  noteFolderListed(memory, `${path}x`, T0 + 3_600_000);
  assert.equal(folderCovered(none), false);
  // A full rescan forgets the times: every folder is listed again.
  resetTreeMemory(memory);
  assert.equal(memory.folderTimes.size, 0);
});

test('a UTC folder time (MLSD) that is old is covered by the first listing; a fresh one is not', () => {
  const memory = createTreeMemory();
  const old = noteFolderTime(
    memory,
    '/a/0000',
    { mtime: T0, precisionMs: 1000, inServerZone: false },
    T0 + 600_000,
    true,
  );
  assert.equal(old.changedAt, T0 + CLOCK_SKEW_MARGIN_MS);
  noteFolderListed(memory, '/a/0000', T0 + 600_100);
  assert.equal(folderCovered(old), true);
  assert.equal(minuteFolderHot(old), false, 'found by a full round: left to the full rounds');
  const fresh = noteFolderTime(
    memory,
    '/a/0100',
    { mtime: T0 + 600_000, precisionMs: 1000, inServerZone: false },
    T0 + 600_200,
    false,
  );
  noteFolderListed(memory, '/a/0100', T0 + 600_300);
  assert.equal(folderCovered(fresh), false, 'listed within the second of its change');
  assert.equal(minuteFolderHot(fresh), true, 'found by a hot round: listed again');
});

test('minuteFolderStart reads the folder time from the last five segments', () => {
  assert.equal(minuteFolderStart('/L2/RMA1/2026/12/02/04/3015'), Date.UTC(2026, 11, 2, 4, 30, 15));
  assert.equal(minuteFolderStart('/L2/RMA1/2026/12/02/04'), null);
  assert.equal(minuteFolderStart('/L2/RMA1/2026/13/02/04/3015'), null);
});
