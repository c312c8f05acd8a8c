/** src/util/abort.ts: each cancellation helper, including the difference between the two sleeps. */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, test } from 'node:test';
import { AbortedError } from '../../src/errors.js';
import {
  linkedController,
  onAbortDuring,
  sleep,
  sleepUntilAborted,
  throwIfAborted,
  untilAborted,
} from '../../src/util/abort.js';

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

test('throwIfAborted throws AbortedError naming the work, with the reason as cause', () => {
  throwIfAborted(undefined, 'nothing');
  throwIfAborted(new AbortController().signal, 'not yet');
  const reason = new Error('operator stop');
  assert.throws(
    () => throwIfAborted(AbortSignal.abort(reason), 'LIST /L2'),
    (err: unknown) => err instanceof AbortedError && err.message.includes('LIST /L2') && err.cause === reason,
  );
});

test('onAbortDuring runs onAbort only while the work is pending, then unhooks', async () => {
  const controller = new AbortController();
  let aborted = 0;
  const work = onAbortDuring(
    controller.signal,
    () => new Promise<string>((_, reject) => setTimeout(() => reject(new Error('closed')), 20)),
    () => aborted++,
  );
  controller.abort();
  await assert.rejects(work, /closed/);
  assert.equal(aborted, 1);
  assert.equal(listeners(controller.signal), 0);

  const quiet = new AbortController();
  assert.equal(
    await onAbortDuring(
      quiet.signal,
      async () => 'done',
      () => aborted++,
    ),
    'done',
  );
  assert.equal(listeners(quiet.signal), 0);
  quiet.abort();
  assert.equal(aborted, 1, 'no call after the work settled');
});

describe('the two sleeps', () => {
  test('sleep rejects with AbortedError on abort (it is part of an operation)', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    const s = sleep(10_000, controller.signal);
    controller.abort(reason);
    await assert.rejects(s, (err: unknown) => err instanceof AbortedError && err.cause === reason);
    await assert.rejects(sleep(10, AbortSignal.abort()), AbortedError);
    assert.equal(listeners(controller.signal), 0);
  });

  test('sleep resolves after its time and unhooks', async () => {
    const controller = new AbortController();
    const started = Date.now();
    await sleep(30, controller.signal);
    assert.ok(Date.now() - started >= 25);
    assert.equal(listeners(controller.signal), 0);
  });

  test('sleepUntilAborted ends early on abort and never rejects (it is a pause between operations)', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const s = sleepUntilAborted(10_000, controller.signal);
    setTimeout(() => controller.abort(new Error('stop')), 20);
    await s;
    assert.ok(Date.now() - started < 5000);
    assert.equal(listeners(controller.signal), 0);
    await sleepUntilAborted(10_000, controller.signal); // already aborted: at once
    await sleepUntilAborted(0, new AbortController().signal);
  });
});

test('linkedController follows any parent with its reason, and dispose() unhooks from all', () => {
  const a = new AbortController();
  const b = new AbortController();
  const linked = linkedController([a.signal, b.signal]);
  assert.equal(listeners(a.signal), 1);
  const reason = new Error('b stopped');
  b.abort(reason);
  assert.equal(linked.signal.aborted, true);
  assert.equal(linked.signal.reason, reason);
  linked.dispose();
  assert.equal(listeners(a.signal), 0);

  const early = linkedController([AbortSignal.abort('already')]);
  assert.equal(early.signal.reason, 'already');

  const parent = new AbortController();
  const child = linkedController([parent.signal]);
  child.dispose();
  parent.abort();
  assert.equal(child.signal.aborted, false, 'a disposed child no longer follows');
});

test('untilAborted waits for the promise or the abort, ignores a rejection, and unhooks', async () => {
  const controller = new AbortController();
  await untilAborted(Promise.reject(new Error('ignored')), controller.signal);
  const never = new Promise(() => undefined);
  const waiting = untilAborted(never, controller.signal);
  controller.abort();
  await waiting;
  assert.equal(listeners(controller.signal), 0);
  await untilAborted(never, controller.signal); // already aborted: at once
});
