/**
 * The status server probed as an attacker on the same machine would (loopback only): password
 * oracles, hostile passwords, request targets that used to throw, auth guessing, socket floods,
 * quick-look floods, broken files, hostile radar names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { encodeRadarVolume, makeSyntheticVolume } from '../../src/bufr/index.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { METRIC_NAMES } from '../../src/web/metrics.js';
import { createLogger } from '../../src/observe/log.js';
import {
  ACTION_HEADER,
  startStatusServer,
  type StatusServer,
  type StatusSnapshot,
} from '../../src/web/index.js';
import { recordSecurityRow } from '../helpers/security-row.js';
import { textSink } from '../helpers/text-sink.js';
import { addRow, http, LEDGER_PASSWORD, SOURCE_PASSWORD, webRig, type WebRig } from './helpers.js';

function logSink(): {
  logger: ReturnType<typeof createLogger>;
  lines: () => { level: number; msg: string }[];
} {
  const sink = textSink();
  return {
    logger: createLogger({ destination: sink.stream, pretty: false, level: 'debug' }),
    lines: () => sink.lines().map((l) => JSON.parse(l) as { level: number; msg: string }),
  };
}

const WARN = 40;

/** Writes a volume of `radar` into the rig and tells the daemon it was downloaded. */
async function addVolume(rig: WebRig, radar: string, bytes?: Buffer): Promise<string> {
  const volume = makeSyntheticVolume({ radar, elevations: [0.5, 1.3] });
  const name = volume.fileName as string;
  mkdirSync(join(rig.dir, 'data'), { recursive: true });
  const local = join(rig.dir, 'data', name);
  writeFileSync(local, bytes ?? encodeRadarVolume(volume));
  const record = await addRow(rig.ledger, 'alpha', `/L2/${radar}/${name}`, { localPath: local });
  rig.daemon.emit('downloaded', { source: 'alpha', record, localPath: local, durationMs: 5 });
  return local;
}

/** Sends raw bytes on a fresh connection; resolves with what came back before the server closed. */
function rawExchange(url: string, data: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => {
      got += c;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
    socket.write(data);
    setTimeout(() => socket.end(), 500).unref();
  });
}

test('no password oracle: a guess that is the password gets the same answer as a random string', async (t) => {
  const rig = webRig(t);
  const status = await startStatusServer({ daemon: rig.daemon, bind: '127.0.0.1:0' });
  t.after(() => status.close());
  const random = randomBytes(12).toString('base64url');
  const probes = (guess: string): Promise<{ status: number; text: string }>[] => [
    http(`${status.url}api/quicklook.png?source=alpha&radar=${encodeURIComponent(guess)}`),
    http(
      `${status.url}api/quicklook.png?source=${encodeURIComponent(guess)}&radar=RMA1&field=${encodeURIComponent(guess)}`,
    ),
    http(`${status.url}api/quicklook.png?source=alpha&radar=RMA1&size=${encodeURIComponent(guess)}`),
    http(`${status.url}nope/${encodeURIComponent(guess)}`),
    http(`${status.url}api/retry`, {
      method: 'POST',
      headers: { [ACTION_HEADER]: 'retry' },
      body: JSON.stringify({ source: guess }),
    }),
  ];
  let compared = 0;
  const started = performance.now();
  for (const secret of [SOURCE_PASSWORD, LEDGER_PASSWORD]) {
    const withSecret = await Promise.all(probes(secret));
    const withRandom = await Promise.all(probes(random));
    for (const [i, r] of withSecret.entries()) {
      assert.equal(r.status, withRandom[i]?.status, `probe ${i}: status`);
      assert.equal(r.text, withRandom[i]?.text, `probe ${i}: body`);
      assert.ok(
        !r.text.includes('[redacted]') && !r.text.includes(random),
        `probe ${i} reflects nothing: ${r.text}`,
      );
      compared++;
    }
  }
  recordSecurityRow({
    id: 'web-oracle',
    scenario: 'status page as a password oracle',
    injected:
      'the FTP and the ledger password vs a random string in radar, source, field, size, path and retry body',
    cases: compared,
    longestHangMs: performance.now() - started,
    observed: `${compared}/${compared} probe pairs answered with identical status and body; nothing reflected`,
  });
});

test('passwords with quotes, backslashes, 2 characters, "true" or "script" break nothing and leak nothing', async (t) => {
  for (const password of ['q"uo\\te', 'ab', 'true', 'script']) {
    const rig = webRig(t, { password });
    const status = await startStatusServer({ daemon: rig.daemon, bind: '127.0.0.1:0' });
    rig.daemon.cycle('alpha', { error: new Error(`530 user radar-user pass ${password} refused`) });
    const json = await http(`${status.url}api/status`);
    const snap = JSON.parse(json.text) as StatusSnapshot; // still valid JSON
    const shown = snap.sources[0]?.lastPoll?.error ?? '';
    assert.ok(!shown.includes(`pass ${password} `), `${password}: ${shown}`);
    assert.ok(
      shown.includes('[redacted]') || shown.includes('withheld'),
      `${password}: the error is still shown (${shown})`,
    );
    const page = await http(status.url);
    assert.match(page.text, /<script nonce="[^"]+">/, `${password}: the page keeps its script`);
    const health = JSON.parse((await http(`${status.url}healthz`)).text) as { status: string };
    assert.ok(['ok', 'unhealthy'].includes(health.status));
    await status.close();
  }
  recordSecurityRow({
    id: 'web-hostile-passwords',
    scenario: 'passwords that used to escape or corrupt the scrubber',
    injected: 'passwords q"uo\\te, ab, true, script in an error shown on the page',
    cases: 4,
    longestHangMs: 0,
    observed: 'JSON valid, page script intact, error shown redacted or withheld in 4/4',
  });
});

test('GET http://[ and // are a 400 without a log line; 500s never show local paths', async (t) => {
  const rig = webRig(t);
  const sink = logSink();
  const status = await startStatusServer({ daemon: rig.daemon, bind: '127.0.0.1:0', logger: sink.logger });
  t.after(() => status.close());
  for (const target of ['http://[', '//', '//x/../..', 'http://status.invalid/api/status', '*']) {
    const reply = await rawExchange(
      status.url,
      `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    );
    const code = /^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1];
    assert.ok(code === undefined || code === '400', `${target}: ${reply.slice(0, 80)}`);
    assert.ok(!reply.includes(target) || target === '*', `${target} is not echoed`);
  }
  assert.deepEqual(
    sink.lines().filter((l) => l.level >= WARN),
    [],
    'nothing logged for malformed targets',
  );
  recordSecurityRow({
    id: 'web-targets',
    scenario: 'malformed request targets before auth',
    injected: 'GET http://[, //, //x/../.., absolute-form, *',
    cases: 5,
    longestHangMs: 0,
    observed: '400 or closed, 0 warn lines, target never echoed',
  });
});

test('binding beyond loopback needs a token or an explicit insecure flag; the Host check stays on', async (t) => {
  const rig = webRig(t);
  await assert.rejects(
    startStatusServer({ daemon: rig.daemon, bind: '0.0.0.0:0' }),
    (err: unknown) => err instanceof InvalidArgumentError && /needs a token/.test(err.message),
  );
  await assert.rejects(startStatusServer({ daemon: rig.daemon, bind: '[::]:0' }), InvalidArgumentError);
  // Without a token (on loopback here), Host names must be IP literals, localhost or listed.
  const status = await startStatusServer({
    daemon: rig.daemon,
    bind: '127.0.0.1:0',
    allowedHosts: ['radar.example'],
  });
  t.after(() => status.close());
  const withHost = (host: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(`${status.url}healthz`, { headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
  assert.equal(await withHost('rebind.attacker.example'), 403);
  assert.equal(await withHost('10.1.2.3:8080'), 200);
  assert.equal(await withHost('[::1]:8080'), 200);
  assert.equal(await withHost('radar.example:8080'), 200);
  recordSecurityRow({
    id: 'web-bind',
    scenario: 'bind beyond loopback without a token; DNS rebinding',
    injected: 'bind 0.0.0.0 and [::] without token; Host rebind.attacker.example without token',
    cases: 3,
    longestHangMs: 0,
    observed: 'both binds refused (InvalidArgumentError); foreign Host 403; IP literals and listed names 200',
  });
});

test('failed auth: throttled to 429 after 20 per minute per client, logged once per window', async (t) => {
  const rig = webRig(t);
  const sink = logSink();
  let clock = 5_000_000;
  const token = 'tok-Zx81';
  const status = await startStatusServer({
    daemon: rig.daemon,
    bind: '127.0.0.1:0',
    token,
    logger: sink.logger,
    now: () => clock,
  });
  t.after(() => status.close());
  const basic = (pass: string): RequestInit => ({
    headers: { authorization: `Basic ${Buffer.from(`u:${pass}`).toString('base64')}` },
  });
  const codes: number[] = [];
  for (let i = 0; i < 30; i++) codes.push((await http(`${status.url}healthz`, basic(`guess${i}`))).status);
  assert.deepEqual(codes.slice(0, 20), Array(20).fill(401));
  assert.deepEqual(codes.slice(20), Array(10).fill(429));
  const throttled = await http(`${status.url}healthz`, basic(token));
  assert.equal(throttled.status, 429, 'inside the window even the right token waits');
  assert.ok(Number(throttled.headers.get('retry-after')) >= 1);
  const authWarnings = (): number =>
    sink.lines().filter((l) => l.level >= WARN && /authentic/.test(l.msg)).length;
  assert.equal(authWarnings(), 1, 'one log line for 31 failures');
  clock += 61_000;
  assert.equal((await http(`${status.url}api/status`, basic(token))).status, 200, 'a new window');
  assert.equal(authWarnings(), 2, 'plus one summary of the last window');
  recordSecurityRow({
    id: 'web-auth-throttle',
    scenario: 'token guessing',
    injected: '31 wrong tokens then the right one, within one minute',
    cases: 31,
    longestHangMs: 0,
    observed:
      '20 × 401 then 429 (Retry-After) even for the right token until the window ends; 1 log line per window',
  });
});

/** Opens `n` sockets from `localAddress` that send an unfinished request head and then nothing. */
async function headerOnlySockets(
  url: string,
  n: number,
  localAddress: string,
  head = 'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n',
): Promise<Socket[]> {
  const { hostname, port } = new URL(url);
  const sockets = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Socket>((resolve) => {
          const s = connect({ port: Number(port), host: hostname, localAddress }, () => {
            if (head !== '') s.write(head);
            resolve(s);
          });
          s.on('error', () => resolve(s));
        }),
    ),
  );
  return sockets;
}

async function waitFor(what: string, ok: () => boolean, limitMs: number): Promise<number> {
  const started = Date.now();
  while (!ok()) {
    if (Date.now() - started > limitMs) assert.fail(`${what} not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - started;
}

test('sockets are capped per client and in total when accepted, and header-only sockets close in seconds', async (t) => {
  const rig = webRig(t);
  const status: StatusServer = await startStatusServer({
    daemon: rig.daemon,
    bind: '127.0.0.1:0',
    token: 'tok-flood',
    limits: {
      maxConnections: 10,
      maxConnectionsPerClient: 4,
      headersTimeoutMs: 1000,
      requestTimeoutMs: 2000,
      keepAliveTimeoutMs: 1000,
    },
  });
  t.after(() => status.close());
  const sockets = [
    // Silent first (so they are held, not refused): they never send a byte.
    ...(await headerOnlySockets(status.url, 2, '127.0.0.4', '')),
    ...(await headerOnlySockets(status.url, 6, '127.0.0.1')),
    ...(await headerOnlySockets(status.url, 6, '127.0.0.2')),
    ...(await headerOnlySockets(status.url, 6, '127.0.0.3')),
  ];
  t.after(() => sockets.forEach((s) => s.destroy()));
  await waitFor('caps applied', () => status.connections().open + status.connections().refused >= 20, 5000);
  const { open, refused } = status.connections();
  assert.ok(open <= 10, `open ${open}`);
  assert.equal(open + refused, 20);
  assert.ok(refused >= 10, `refused ${refused}: 4 per client, 10 in total`);
  const closedAfter = await waitFor(
    'header-only sockets closed',
    () => status.connections().open === 0,
    8000,
  );
  t.diagnostic(`header-only sockets closed by the server after ${closedAfter} ms`);
  const ok = await http(`${status.url}healthz`, {
    headers: { authorization: `Basic ${Buffer.from('u:tok-flood').toString('base64')}` },
  });
  assert.equal(ok.status, 200, 'still serving');
  recordSecurityRow({
    id: 'web-socket-caps',
    scenario: 'silent and header-only sockets from 4 clients (caps 4 per client, 10 in all, headers 1 s)',
    injected: '18 sockets sending an unfinished request head, 2 sending nothing',
    cases: 20,
    longestHangMs: closedAfter,
    observed: `${open} held, ${refused} refused at accept; all closed by the server after ${closedAfter} ms; still serving`,
  });
});

test('32 concurrent quick-looks render in a worker: /healthz answers in under a second meanwhile', async (t) => {
  // Nothing polls here: a long poll interval keeps the sources inside their health window (3
  // intervals) however slowly a loaded machine renders, so /healthz stays 200 for this test.
  const rig = webRig(t, { pollInterval: 3600 });
  const status = await startStatusServer({ daemon: rig.daemon, bind: '127.0.0.1:0', quicklookSize: 300 });
  t.after(() => status.close());
  const radars = Array.from({ length: 8 }, (_, i) => `RMA${i + 1}`);
  for (const r of radars) await addVolume(rig, r);
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  t.after(() => agent.destroy());
  const get = (path: string): Promise<{ status: number; bytes: number }> =>
    new Promise((resolve, reject) => {
      request(`${status.url}${path}`, { agent }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      })
        .on('error', reject)
        .end();
    });
  const renders = radars.flatMap((r) =>
    [300, 240, 480, 960].map((size) =>
      get(`api/quicklook.png?source=alpha&radar=${r}&field=DBZH&size=${size}`),
    ),
  );
  let done = false;
  const all = Promise.all(renders).finally(() => (done = true));
  const health: number[] = [];
  while (!done && health.length < 400) {
    const started = performance.now();
    assert.equal((await http(`${status.url}healthz`)).status, 200);
    health.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 25));
  }
  const results = await all;
  assert.deepEqual(
    results.map((r) => r.status),
    Array(32).fill(200),
  );
  assert.ok(health.length >= 2, 'healthz was asked while rendering');
  const worst = Math.max(...health);
  t.diagnostic(`/healthz during 32 renders: ${health.length} requests, worst ${worst.toFixed(0)} ms`);
  assert.ok(worst < 1000, `worst /healthz ${worst} ms`);
  recordSecurityRow({
    id: 'web-quicklook-load',
    scenario: '32 concurrent quick-looks (8 radars × 4 sizes) while /healthz is polled',
    injected: '32 renders at once through 16 sockets',
    cases: 32,
    longestHangMs: worst,
    observed: `32/32 PNGs; /healthz asked ${health.length} times, worst ${worst.toFixed(0)} ms (the hang column)`,
  });
  // Sizes outside the fixed set are refused, not rendered.
  assert.equal((await http(`${status.url}api/quicklook.png?source=alpha&radar=RMA1&size=777`)).status, 400);
});

test('a broken volume is decoded once: the same fixed 422 afterwards, one log line, no local path', async (t) => {
  const rig = webRig(t);
  const sink = logSink();
  const status = await startStatusServer({ daemon: rig.daemon, bind: '127.0.0.1:0', logger: sink.logger });
  t.after(() => status.close());
  await addVolume(rig, 'RMA9', Buffer.from('BUFR this is not a radar volume at all 7777'));
  const answers = [];
  for (const size of [480, 480, 240, 960, 480]) {
    answers.push(
      await http(`${status.url}api/quicklook.png?source=alpha&radar=RMA9&field=DBZH&size=${size}`),
    );
  }
  assert.deepEqual(
    answers.map((a) => a.status),
    [422, 422, 422, 422, 422],
  );
  for (const a of answers) {
    assert.equal(a.text, answers[0]?.text);
    assert.ok(!a.text.includes(rig.dir), `no local path: ${a.text}`);
  }
  const renderLogs = sink.lines().filter((l) => /cannot render/.test(l.msg));
  assert.equal(renderLogs.length, 1, 'logged once');
  assert.ok(!JSON.stringify(renderLogs[0]).includes('"stack"'), 'without a stack');
  recordSecurityRow({
    id: 'web-broken-volume',
    scenario: 'quick-look of a broken BUFR asked repeatedly',
    injected: '5 requests (3 sizes) for a file that does not decode',
    cases: 5,
    longestHangMs: 0,
    observed: '5 × the same fixed 422, decoded and logged once (no stack), no local path',
  });
});

test('600 hostile radar names: at most 64 radar series per source plus "other", on the page too', async (t) => {
  const rig = webRig(t);
  const status = await startStatusServer({ daemon: rig.daemon, bind: '127.0.0.1:0' });
  t.after(() => status.close());
  const now = Date.now();
  for (let i = 0; i < 600; i++) {
    const name = `H${i}X_0315_01_DBZH_20251020T152828Z.BUFR`;
    const record = await addRow(
      rig.ledger,
      'alpha',
      `/L2/H${i}X/${name}`,
      { localPath: join(rig.dir, name) },
      now,
    );
    rig.daemon.emit('downloaded', { source: 'alpha', record, localPath: join(rig.dir, name), durationMs: 1 });
  }
  const scrape = (await http(`${status.url}metrics`)).text;
  const lagSeries = scrape.split('\n').filter((l) => l.startsWith(`${METRIC_NAMES.lag}{`));
  assert.equal(lagSeries.length, 65, 'lag series: 64 radars + other');
  assert.ok(lagSeries.some((l) => l.includes('radar="other"')));
  const snapText = (await http(`${status.url}api/status`)).text;
  const snap = JSON.parse(snapText) as StatusSnapshot;
  assert.equal(snap.sources[0]?.radars.length, 65);
  assert.deepEqual(
    Object.keys(snap.sources[0]?.radars.find((r) => r.radar === 'other')?.quicklooks ?? {}),
    [],
  );
  t.diagnostic(`status JSON with 600 hostile radar names: ${snapText.length} bytes`);
  recordSecurityRow({
    id: 'web-cardinality',
    scenario: 'radar names chosen by a server',
    injected: '600 distinct radar names in one source',
    cases: 600,
    longestHangMs: 0,
    observed: `${lagSeries.length} lag series (64 + other), ${snap.sources[0]?.radars.length} page rows, status JSON ${Math.round(snapText.length / 1024)} KB`,
  });
});
