#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's built-in runner and the tsx loader.
// Node 20's `--test` does not expand globs itself, hence this small walker.
// Usage: node scripts/run-tests.mjs [filter-substring ...]
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}
const filters = process.argv.slice(2);
const files = walk('test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
const concurrency = process.env.RADARLIB_TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  // --test-force-exit: a file whose tests all finished must not hold the run open (a leaked
  // timer would otherwise stall every later file's report until CI's time limit).
  ['--import', 'tsx', '--test', '--test-force-exit', `--test-concurrency=${concurrency}`, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
