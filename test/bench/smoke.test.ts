/**
 * The benchmark suite, small and fast, so it never rots: `runSuite({smoke: true})` mirrors a
 * dozen files from the embedded server over loopback with every tool present (radarlib always;
 * lftp and rclone when installed), writes its JSON into a temp folder and leaves
 * docs/PERFORMANCE.md alone. No timing assertions: only that it ran and the JSON has its shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderReport, runSuite, type SuiteResult } from '../../bench/run.js';

test('bench smoke: the suite runs on loopback and writes results of the expected shape', async () => {
  const outDir = await mkdtemp(join(tmpdir(), 'radarlib-bench-smoke-'));
  try {
    const suite = await runSuite({ smoke: true, outDir, docs: false });
    assert.equal(suite.smoke, true);
    assert.ok(suite.dataset.files > 0 && suite.dataset.bytes > 0);
    assert.equal(suite.wan.skipped, 'smoke run');

    const radarlib = suite.mirror.filter((r) => r.family === 'radarlib');
    assert.deepEqual(
      radarlib.map((r) => r.parallel),
      [1, 5, 5, 'auto', 16],
    );
    const overlap = radarlib.find((r) => r.tool.includes('overlapSetup'));
    assert.equal(overlap?.detail?.dataTransfers?.limit, 5, 'overlapSetup reports its data slots');
    for (const r of suite.mirror) {
      assert.equal(r.env, 'loopback');
      assert.equal(r.ok, true, `${r.tool}: ${r.note ?? ''}`);
      assert.equal(r.files, suite.dataset.files);
      assert.equal(r.bytes, suite.dataset.bytes);
      for (const key of ['wallS', 'mbPerS', 'cpuS'] as const) {
        assert.equal(typeof r[key], 'number', `${r.tool}.${key}`);
      }
    }
    const auto = radarlib.find((r) => r.parallel === 'auto');
    assert.ok(Array.isArray(auto?.detail?.concurrency), 'auto records its concurrency steps');
    assert.equal(auto?.detail?.concurrency?.[0]?.reason, 'start');
    for (const r of suite.mirror.filter((x) => x.family === 'lftp')) assert.equal(r.ratioToLftp, 1);

    for (const name of ['mirror.json', 'idle-poll.json', 'suite.json']) {
      assert.ok(existsSync(join(outDir, name)), name);
    }
    const written = JSON.parse(readFileSync(join(outDir, 'suite.json'), 'utf8')) as SuiteResult;
    assert.equal(written.mirror.length, suite.mirror.length);
    assert.match(renderReport(written), /\| loopback \| radarlib maxConcurrent=5 \|/);
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
});
