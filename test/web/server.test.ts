import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeRadarVolume, makeSyntheticVolume } from '../../src/bufr/index.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { REFLECTIVITY_SCALE, sweepRangeKm, lowestSweep, ppiLayout } from '../../src/render/index.js';
import {
  ACTION_HEADER,
  isLoopback,
  parseBind,
  startStatusServer,
  type StatusSnapshot,
} from '../../src/web/index.js';
import { annulusDataFraction, decodePng, syntheticRingKm } from '../render/helpers.js';
import { addRow, http, LEDGER_PASSWORD, SOURCE_PASSWORD, webRig } from './helpers.js';

const RETRY = { method: 'POST', headers: { [ACTION_HEADER]: 'retry', 'content-type': 'application/json' } };

test('/healthz turns unhealthy when a source had no successful poll for 3 poll intervals', async (t) => {
  const { daemon } = webRig(t); // pollInterval 10 s for both sources
  let clock = 1_000_000;
  const status = await startStatusServer({
    daemon,
    bind: '127.0.0.1:0',
    now: () => clock,
    minHealthWindowMs: 0,
  });
  t.after(() => status.close());
  const health = async (): Promise<{
    status: number;
    body: { status: string; sources: { source: string; healthy: boolean; reason: string | null }[] };
  }> => {
    const r = await http(`${status.url}healthz`);
    return { status: r.status, body: JSON.parse(r.text) };
  };

  assert.equal((await health()).status, 200, 'healthy at the start');
  clock += 29_000;
  daemon.cycle('alpha');
  daemon.cycle('beta');
  assert.equal((await health()).status, 200);

  // alpha keeps polling; beta's listings fail from now on.
  clock += 20_000;
  daemon.cycle('alpha');
  daemon.cycle('beta', { error: new Error('530 Login incorrect') });
  assert.equal((await health()).status, 200, '20 s without success is within 3 x 10 s');
  clock += 10_000; // exactly 3 intervals
  daemon.cycle('alpha');
  assert.equal((await health()).status, 200);
  clock += 1;
  daemon.cycle('alpha');
  const bad = await health();
  assert.equal(bad.status, 503);
  assert.equal(bad.body.status, 'unhealthy');
  const beta = bad.body.sources.find((s) => s.source === 'beta');
  assert.equal(beta?.healthy, false);
  assert.match(beta?.reason ?? '', /no successful poll for 30 s.*530 Login incorrect/);
  assert.equal(bad.body.sources.find((s) => s.source === 'alpha')?.healthy, true);

  daemon.cycle('beta');
  assert.equal((await health()).status, 200, 'healthy again after a successful poll');

  // Never polled at all: unhealthy 3 intervals after the start.
  clock += 31_000;
  assert.equal((await health()).status, 503);
});

test('the page, the JSON, the metrics and the health never contain a password', async (t) => {
  const { daemon, ledger } = webRig(t);
  const status = await startStatusServer({ daemon, bind: '127.0.0.1:0' });
  t.after(() => status.close());
  // Errors that (wrongly) carry the password, from a listing and from a download.
  daemon.cycle('alpha', { error: new Error(`cannot log in with ${SOURCE_PASSWORD}`) });
  daemon.emit('retry', {
    source: 'alpha',
    remotePath: '/L2/RMA1/x.BUFR',
    attempts: 1,
    error: new Error(`PASS ${SOURCE_PASSWORD} refused`),
    retryAt: Date.now() + 60_000,
  });
  await addRow(ledger, 'beta', '/other/f.BUFR', {
    fail: `ledger error for postgres://u:${LEDGER_PASSWORD}@db`,
  });

  const bodies = await Promise.all(
    ['', 'index.html', 'api/status', 'metrics', 'healthz'].map((p) => http(`${status.url}${p}`)),
  );
  for (const [i, body] of bodies.entries()) {
    assert.ok(body.status === 200 || body.status === 503, `${i}: ${body.status}`);
    assert.ok(!body.text.includes(SOURCE_PASSWORD), `source password in response ${i}`);
    assert.ok(!body.text.includes(LEDGER_PASSWORD), `ledger password in response ${i}`);
  }
  const snapshot = JSON.parse(bodies[2]?.text ?? '{}') as StatusSnapshot;
  // The failures are shown (redacted), not hidden.
  assert.match(snapshot.sources[0]?.lastPoll?.error ?? '', /\[redacted\]/);
  assert.equal(snapshot.recentFailures.length, 2);
  assert.ok(!JSON.stringify(snapshot).includes('radar-user'), 'user names are not shown either');
  assert.match(bodies[0]?.headers.get('content-security-policy') ?? '', /script-src 'nonce-/);
});

test('with a token, every route needs basic auth with it', async (t) => {
  const { daemon } = webRig(t);
  const token = 'tok-3f9a2c';
  const status = await startStatusServer({ daemon, bind: '127.0.0.1:0', token });
  t.after(() => status.close());
  const basic = (user: string, pass: string): string =>
    `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  for (const path of ['', 'api/status', 'metrics', 'healthz', 'api/quicklook.png?source=alpha&radar=RMA1']) {
    const none = await http(`${status.url}${path}`);
    assert.equal(none.status, 401, `${path} without auth`);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm="radarlib"/);
    const wrong = await http(`${status.url}${path}`, {
      headers: { authorization: basic('radarlib', 'nope') },
    });
    assert.equal(wrong.status, 401, `${path} with a wrong token`);
    const ok = await http(`${status.url}${path}`, { headers: { authorization: basic('anyone', token) } });
    assert.ok([200, 404].includes(ok.status), `${path} with the token: ${ok.status}`);
  }
  const post = await http(`${status.url}api/retry`, { ...RETRY, body: '{}' });
  assert.equal(post.status, 401);
  const posted = await http(`${status.url}api/retry`, {
    ...RETRY,
    headers: { ...RETRY.headers, authorization: basic('x', token) },
    body: '{}',
  });
  assert.equal(posted.status, 200);
});

test('retry re-queues the failed files of a source, as retry-failed does, and refuses cross-site posts', async (t) => {
  const { daemon, ledger } = webRig(t);
  const status = await startStatusServer({ daemon, bind: '127.0.0.1:0' });
  t.after(() => status.close());
  await addRow(ledger, 'alpha', '/L2/a.BUFR', { fail: 'RADARLIB_FTP_REPLY: server replied 550' });
  await addRow(ledger, 'beta', '/other/b.BUFR', { fail: 'RADARLIB_FTP_TIMEOUT: stalled' });

  const snap = JSON.parse((await http(`${status.url}api/status`)).text) as StatusSnapshot;
  assert.deepEqual(snap.recentFailures.map((f) => [f.source, f.name, f.state]).sort(), [
    ['alpha', 'a.BUFR', 'failed'],
    ['beta', 'b.BUFR', 'failed'],
  ]);
  assert.equal(snap.sources.find((s) => s.name === 'alpha')?.counts?.failed, 1);

  // A plain form post (no custom header) is refused.
  const form = await http(`${status.url}api/retry`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'source=alpha',
  });
  assert.equal(form.status, 403);
  assert.equal((await http(`${status.url}api/retry`)).status, 405);
  assert.equal((await http(`${status.url}api/retry`, { ...RETRY, body: '{"source":"nope"}' })).status, 404);
  assert.equal((await http(`${status.url}api/retry`, { ...RETRY, body: 'not json' })).status, 400);

  const one = await http(`${status.url}api/retry`, { ...RETRY, body: JSON.stringify({ source: 'alpha' }) });
  assert.deepEqual(JSON.parse(one.text), { requeued: 1, source: 'alpha' });
  assert.equal((await ledger.counts('alpha')).ready, 1);
  assert.equal((await ledger.counts('beta')).failed, 1);
  const all = await http(`${status.url}api/retry`, { ...RETRY, body: '' });
  assert.deepEqual(JSON.parse(all.text), { requeued: 1, source: null });
  assert.equal((await ledger.counts()).failed, 0);
});

test('quick-look: 404 before a volume, then the PNG of the latest one, with lag and recent downloads', async (t) => {
  const { daemon, ledger, dir } = webRig(t);
  const status = await startStatusServer({ daemon, bind: '127.0.0.1:0', quicklookSize: 300 });
  t.after(() => status.close());
  const q = (field: string): string =>
    `${status.url}api/quicklook.png?source=alpha&radar=RMA1&field=${field}`;
  assert.equal((await http(q('DBZH'))).status, 404);

  const volume = makeSyntheticVolume({
    radar: 'RMA1',
    elevations: [0.5, 1.3],
    time: new Date(Math.floor(Date.now() / 1000) * 1000 - 90_000),
  });
  const name = volume.fileName as string;
  const local = join(dir, 'data', name);
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(local, encodeRadarVolume(volume));
  const remote = `/L2/RMA1/x/${name}`;
  const record = await addRow(ledger, 'alpha', remote, { localPath: local });
  daemon.emit('downloaded', { source: 'alpha', record, localPath: local, durationMs: 40 });

  const res = await http(q('DBZH'));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
  const img = decodePng(res.bytes);
  const sweep = lowestSweep(volume);
  const layout = ppiLayout(300, sweepRangeKm(sweep));
  const ring = annulusDataFraction(img, layout, REFLECTIVITY_SCALE, ...syntheticRingKm(sweep).ring);
  assert.ok(ring.fraction > 0.5, `ring only ${ring.fraction}`);
  assert.equal((await http(q('VRAD'))).status, 404);

  const snap = JSON.parse((await http(`${status.url}api/status`)).text) as StatusSnapshot;
  const radar = snap.sources[0]?.radars[0];
  assert.equal(radar?.radar, 'RMA1');
  assert.ok((radar?.lagSeconds ?? 0) >= 90, `lag ${radar?.lagSeconds}`);
  assert.match(
    radar?.quicklooks['DBZH']?.url ?? '',
    /^api\/quicklook\.png\?source=alpha&radar=RMA1&field=DBZH&v=\d+$/,
  );
  assert.equal(snap.recentDownloads[0]?.name, name);
  assert.equal(snap.recentDownloads[0]?.size, 1234);
  assert.ok((snap.recentDownloads[0]?.bytesPerSecond ?? 0) > 0);
});

test('a restarted page finds the latest volumes in the ledger', async (t) => {
  const { daemon, ledger, dir } = webRig(t);
  const volume = makeSyntheticVolume({ radar: 'RMA2', elevations: [0.5] });
  const local = join(dir, volume.fileName as string);
  writeFileSync(local, encodeRadarVolume(volume));
  await addRow(ledger, 'alpha', `/L2/RMA2/${volume.fileName}`, { localPath: local });
  const status = await startStatusServer({ daemon, bind: '127.0.0.1:0' });
  t.after(() => status.close());
  const snap = JSON.parse((await http(`${status.url}api/status`)).text) as StatusSnapshot;
  assert.deepEqual(Object.keys(snap.sources[0]?.radars[0]?.quicklooks ?? {}), ['DBZH']);
  assert.equal(snap.recentDownloads.length, 1);
  assert.equal(snap.recentDownloads[0]?.durationMs, null);
  assert.equal((await http(`${status.url}api/quicklook.png?source=alpha&radar=RMA2&field=DBZH`)).status, 200);
});

test('on loopback, foreign Host names are refused (DNS rebinding); unknown routes are 404', async (t) => {
  const { daemon } = webRig(t);
  const status = await startStatusServer({ daemon, bind: '127.0.0.1:0' });
  t.after(() => status.close());
  const { request } = await import('node:http');
  const code = await new Promise<number>((resolve, reject) => {
    const req = request(`${status.url}api/status`, { headers: { host: 'evil.example:8080' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(code, 403);
  assert.equal((await http(`${status.url}nope`)).status, 404);
});

test('bind addresses: HOST:PORT, [v6]:PORT, bare port; loopback detection', () => {
  const cases: [string, { host: string; port: number }][] = [
    ['127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }],
    ['0.0.0.0:9000', { host: '0.0.0.0', port: 9000 }],
    ['[::1]:0', { host: '::1', port: 0 }],
    [':8081', { host: '127.0.0.1', port: 8081 }],
    ['8082', { host: '127.0.0.1', port: 8082 }],
    ['localhost:1', { host: 'localhost', port: 1 }],
  ];
  for (const [input, expected] of cases) assert.deepEqual(parseBind(input), expected, input);
  for (const bad of ['127.0.0.1', '127.0.0.1:70000', 'host:x', '::1:80']) {
    assert.throws(() => parseBind(bad), InvalidArgumentError, bad);
  }
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST'])
    assert.ok(isLoopback(h), h);
  for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.org', '128.0.0.1']) assert.ok(!isLoopback(h), h);
});

test('attachStatusServer: only with --http (or the config http), never otherwise', async (t) => {
  const { attachStatusServer } = await import('../../src/cli/commands/web-options.js');
  const { silentLogger } = await import('../../src/observe/log.js');
  const { daemon } = webRig(t);
  assert.equal(await attachStatusServer(daemon, {}, silentLogger()), null);
  const web = await attachStatusServer(
    daemon,
    { http: parseBind('127.0.0.1:0'), httpToken: 'tok' },
    silentLogger(),
  );
  assert.ok(web !== null);
  t.after(() => web.close());
  assert.equal((await http(`${web.url}healthz`)).status, 401);
  const { daemon: configured } = webRig(t, { http: { host: '127.0.0.1', port: 0 } });
  const fromConfig = await attachStatusServer(configured, {}, silentLogger());
  assert.ok(fromConfig !== null);
  t.after(() => fromConfig.close());
  assert.equal((await http(`${fromConfig.url}healthz`)).status, 200);
});
