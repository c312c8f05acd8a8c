/**
 * Which SQLite commits reach the disk, counted as fsync calls under strace: recording downloads
 * (`complete`, `completeMany`) fsyncs, so a power cut cannot undo them; claims, lease renewals and
 * callback outcomes do not (a power cut only repeats that work), so a file costs one fsync of the
 * ledger per group instead of four. Skips, saying why, without strace or when ptrace is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./fixtures/sqlite-fsync-child.ts', import.meta.url));

function straceUnavailable(): string | false {
  const probe = spawnSync('strace', ['-f', '-e', 'trace=fsync', '-o', '/dev/null', 'true'], {
    stdio: 'ignore',
  });
  if (probe.error !== undefined) return 'strace is not installed (apt-get install strace)';
  if (probe.status !== 0) return `strace cannot trace here (exit ${probe.status}: ptrace refused?)`;
  return false;
}

test(
  'sqlite: downloads are recorded with an fsync; claims, renewals and callback outcomes without',
  { skip: straceUnavailable(), timeout: 60_000 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'radarlib-fsync-'));
    try {
      const trace = join(dir, 'trace');
      const run = spawnSync(
        'strace',
        [
          '-f',
          '-e',
          'trace=fsync,fdatasync,write',
          '-e',
          'signal=none',
          '-o',
          trace,
          process.execPath,
          '--import',
          'tsx',
          CHILD,
        ],
        { env: { ...process.env, LEDGER_DIR: dir }, encoding: 'utf8', timeout: 50_000 },
      );
      assert.equal(run.status, 0, run.stderr);
      const fsyncs = new Map<string, number>();
      let current = 'open';
      for (const line of readFileSync(trace, 'utf8').split('\n')) {
        const marker = /write\(2, "PHASE ([a-z-]+)\\n"/.exec(line);
        if (marker !== null) current = marker[1] as string;
        else if (/\b(fsync|fdatasync)\(/.test(line)) fsyncs.set(current, (fsyncs.get(current) ?? 0) + 1);
      }
      const at = (phase: string): number => fsyncs.get(phase) ?? 0;
      assert.equal(at('claim-and-renew'), 0, '20 claims and 20 renewals: no fsync');
      assert.equal(at('mark-processed'), 0, '20 callback outcomes: no fsync');
      assert.ok(at('complete-many') >= 1, 'a group of downloads reaches the disk');
      assert.ok(at('complete-many') <= 2, `one group, one commit: ${at('complete-many')} fsyncs`);
      assert.ok(at('complete-one') >= 1, 'a single download reaches the disk');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
