import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { readRadarVolume } from '../../src/bufr/index.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { addMovingCells, startRadarNetwork } from '../../src/demo/network.js';
import { makeSyntheticVolume } from '../../src/bufr/index.js';
import { NO_DATA } from '../../src/radar/model.js';
import { parseRadarFileName } from '../../src/radar/filename.js';

function tempRoot(t: { after: (fn: () => void) => void }): string {
  const root = mkdtempSync(join(tmpdir(), 'radarlib-network-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

test('each radar publishes one real BUFR file per field into /L2/<RADAR>/YYYY/MM/DD/HH/MMSS/', async (t) => {
  const root = tempRoot(t);
  const clock = Date.UTC(2026, 10, 28, 17, 5, 9, 700);
  const net = startRadarNetwork({
    root,
    radars: 2,
    cadence: 60,
    immediate: false,
    growMs: 0,
    now: () => clock,
    ngates: 200,
  });
  t.after(() => net.stop());
  const files = await net.publishNow();
  assert.deepEqual(net.radars, ['RMA1', 'RMA2']);
  assert.equal(files.length, 6);
  assert.equal(net.publishedCount, 6);
  for (const f of files) {
    assert.equal(
      f.remotePath,
      `/L2/${f.radar}/2026/11/28/17/0509/${f.radar}_0315_01_${f.field}_20261128T170509Z.BUFR`,
    );
    assert.equal(relative(root, f.localPath).split(sep).join('/'), f.remotePath.slice(1));
    assert.equal(statSync(f.localPath).size, f.size);
    const name = parseRadarFileName(f.remotePath);
    assert.equal(name?.radar, f.radar);
    const v = await readRadarVolume(f.localPath);
    assert.equal(v.radar, f.radar);
    assert.equal(v.field, f.field);
    assert.equal(v.time.toISOString(), '2026-11-28T17:05:09.000Z');
    assert.equal(v.sweeps.length, 3);
    assert.ok(
      v.sweeps[0]?.values.some((x) => x !== NO_DATA && Number.isFinite(x)),
      'the sweep has echo',
    );
  }
  assert.deepEqual([...new Set(files.map((f) => f.field))].sort(), ['DBZH', 'VRAD', 'ZDR']);
  // Publishing again in the same second moves to the next second (names never repeat).
  const again = await net.publishNow();
  assert.match(again[0]?.remotePath ?? '', /T170510Z\.BUFR$/);
});

test('a file grows under its final name before it is complete', async (t) => {
  const root = tempRoot(t);
  const net = startRadarNetwork({
    root,
    radars: ['RMA7'],
    fields: ['DBZH'],
    immediate: false,
    growMs: 600,
    ngates: 200,
  });
  t.after(() => net.stop());
  const sizes: number[] = [];
  let finalPath: string | undefined;
  const publishing = net.publishNow().then((f) => {
    finalPath = f[0]?.localPath;
    return f;
  });
  // Watch the radar's folder until the file shows up and its publish resolves (bounded).
  const { readdirSync } = await import('node:fs');
  const findFile = (dir: string): string | null => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        const f = findFile(p);
        if (f !== null) return f;
      } else return p;
    }
    return null;
  };
  for (let i = 0; i < 400 && finalPath === undefined; i++) {
    const f = findFile(root);
    if (f !== null) sizes.push(statSync(f).size);
    await new Promise((r) => setTimeout(r, 10));
  }
  const [file] = await publishing;
  assert.ok(file !== undefined);
  sizes.push(statSync(file.localPath).size);
  assert.equal(sizes.at(-1), file.size);
  assert.ok(
    sizes.some((s) => s > 0 && s < file.size),
    `never saw the file incomplete (sizes seen: ${[...new Set(sizes)].join(', ')})`,
  );
});

test('convective cells add echo that moves with time', () => {
  const a = makeSyntheticVolume({ elevations: [0.5], seed: 3 });
  const b = makeSyntheticVolume({ elevations: [0.5], seed: 3 });
  addMovingCells(a, 0, 1);
  addMovingCells(b, 600_000, 1);
  const count = (v: typeof a): number =>
    (v.sweeps[0]?.values ?? []).filter((x) => x >= 45 && x < 1e300).length;
  assert.ok(count(a) > 100, 'cells have strong cores');
  assert.notDeepEqual(a.sweeps[0]?.values, b.sweeps[0]?.values, 'ten minutes later the cells moved');
});

test('bad knobs are refused naming the option', () => {
  assert.throws(() => startRadarNetwork({ root: '/nonexistent', cadence: 0.5 }), InvalidArgumentError);
  assert.throws(() => startRadarNetwork({ root: '/nonexistent', radars: 0 }), /radars/);
  assert.throws(() => startRadarNetwork({ root: '/nonexistent', radars: ['../x'] }), /radars/);
});
