import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { errorCode, FtpReplyError } from '../../src/errors.js';
import { DaemonMetrics, METRIC_NAMES } from '../../src/web/metrics.js';
import { addRow, webRig } from './helpers.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the Prometheus text format (0.0.4): every line must be understood. */
function parseExposition(text: string): {
  samples: Sample[];
  types: Map<string, string>;
  helps: Set<string>;
} {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const lines = text.split('\n');
  assert.equal(lines.at(-1), '', 'the exposition ends with a newline');
  for (const line of lines.slice(0, -1)) {
    if (line === '') continue; // blank lines between families are allowed
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line);
    if (m !== null) {
      helps.add(m[1] as string);
      continue;
    }
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m !== null) {
      types.set(m[1] as string, m[2] as string);
      continue;
    }
    // Values as Prometheus reads them (Go's ParseFloat: NaN and Inf in any case; prom-client
    // writes "Nan" for an event-loop mean without samples).
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.]+(?:e[+-]?\d+)?|nan|[+-]?inf)$/i.exec(line);
    assert.ok(m !== null, `unparseable line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] as string] = pair[2] as string;
    }
    const raw = (m[3] as string).toLowerCase();
    const value =
      raw === 'nan' ? NaN : raw.endsWith('inf') ? (raw.startsWith('-') ? -Infinity : Infinity) : Number(raw);
    samples.push({ name: m[1] as string, labels, value });
  }
  return { samples, types, helps };
}

function family(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, '');
}

test('a scrape parses, every sample has HELP and TYPE, and every documented name is there', async (t) => {
  const { daemon, ledger } = webRig(t);
  let clock = Date.UTC(2026, 0, 1, 12, 0, 10);
  const metrics = new DaemonMetrics({ now: () => clock });
  const detach = metrics.attach(daemon);
  t.after(detach);

  const record = await addRow(
    ledger,
    'alpha',
    '/L2/RMA1/2026/01/01/12/0000/RMA1_0315_01_DBZH_20260101T120000Z.BUFR',
    {
      localPath: '/tmp/x.BUFR',
    },
  );
  await addRow(ledger, 'alpha', '/L2/RMA1/2026/01/01/12/0000/RMA1_0315_01_ZDR_20260101T120000Z.BUFR', {
    fail: 'RADARLIB_FTP_REPLY: 550',
  });
  daemon.emit('downloaded', { source: 'alpha', record, localPath: '/tmp/x.BUFR', durationMs: 250 });
  const err = new FtpReplyError(550, 'Permission denied', { host: '127.0.0.1', port: 21, command: 'RETR' });
  daemon.emit('retry', {
    source: 'alpha',
    remotePath: '/L2/x',
    attempts: 1,
    error: err,
    retryAt: clock + 1000,
  });
  daemon.emit('failed', { source: 'alpha', remotePath: '/L2/x', attempts: 2, error: err, retryAt: null });
  daemon.emit('processed', { source: 'alpha', record, error: null, durationMs: 3 });
  daemon.cycle('alpha', { durationMs: 1500 });
  daemon.cycle('beta', { error: new Error('boom') });
  clock += 20_000;

  const { samples, types, helps } = parseExposition(await metrics.metrics());
  for (const s of samples) {
    assert.ok(types.has(family(s.name)), `no TYPE for ${s.name}`);
    assert.ok(helps.has(family(s.name)), `no HELP for ${s.name}`);
  }
  const names = new Set(samples.map((s) => family(s.name)));
  for (const name of Object.values(METRIC_NAMES))
    assert.ok(names.has(name), `${name} missing from the scrape`);

  // The names in docs/WEB.md are exactly the exported ones.
  const doc = readFileSync(new URL('../../docs/WEB.md', import.meta.url), 'utf8');
  const documented = new Set([...doc.matchAll(/`(radarlib_[a-z_]+)`/g)].map((m) => m[1] as string));
  assert.deepEqual([...documented].sort(), Object.values(METRIC_NAMES).sort());

  const get = (name: string, labels: Record<string, string>): number | undefined =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      ?.value;
  assert.equal(get(METRIC_NAMES.filesDownloaded, { source: 'alpha' }), 1);
  assert.equal(get(METRIC_NAMES.bytesDownloaded, { source: 'alpha' }), 1234);
  assert.equal(
    get(METRIC_NAMES.downloadFailures, { source: 'alpha', code: 'RADARLIB_FTP_REPLY', outcome: 'retry' }),
    1,
  );
  assert.equal(
    get(METRIC_NAMES.downloadFailures, { source: 'alpha', code: 'RADARLIB_FTP_REPLY', outcome: 'failed' }),
    1,
  );
  assert.equal(get(METRIC_NAMES.filesProcessed, { source: 'alpha', result: 'ok' }), 1);
  assert.equal(get(METRIC_NAMES.cycles, { source: 'alpha', result: 'ok' }), 1);
  assert.equal(get(METRIC_NAMES.cycles, { source: 'beta', result: 'error' }), 1);
  assert.equal(get(`${METRIC_NAMES.cycleDuration}_count`, { source: 'alpha' }), 1);
  assert.equal(get(`${METRIC_NAMES.cycleDuration}_bucket`, { source: 'alpha', le: '1' }), 0);
  assert.equal(get(`${METRIC_NAMES.cycleDuration}_bucket`, { source: 'alpha', le: '2.5' }), 1);
  assert.equal(get(METRIC_NAMES.lastSuccessfulPoll, { source: 'beta' }), undefined);
  // Lag: the file's name says 12:00:00; the clock says 12:00:30.
  assert.equal(get(METRIC_NAMES.lag, { source: 'alpha', radar: 'RMA1' }), 30);
  // Ledger rows by state, read at scrape time.
  assert.equal(get(METRIC_NAMES.ledgerFiles, { source: 'alpha', state: 'downloaded' }), 1);
  assert.equal(get(METRIC_NAMES.ledgerFiles, { source: 'alpha', state: 'failed' }), 1);
  assert.equal(get(METRIC_NAMES.ledgerFiles, { source: 'beta', state: 'seen' }), 0);
  assert.equal(types.get(METRIC_NAMES.cycleDuration), 'histogram');
  assert.equal(types.get(METRIC_NAMES.lag), 'gauge');
});

test('a closed ledger leaves its rows out instead of failing the scrape', async (t) => {
  const { daemon, ledger } = webRig(t);
  const metrics = new DaemonMetrics({ defaultMetrics: false });
  metrics.attach(daemon);
  await ledger.close();
  const text = await metrics.metrics();
  assert.doesNotMatch(text, /radarlib_ledger_files\{/);
  assert.match(text, /# TYPE radarlib_ledger_files gauge/);
});

test('error codes for labels: stable codes, errno codes, else the class name', () => {
  const reply = new FtpReplyError(550, 'x', { host: 'h', port: 21 });
  assert.equal(errorCode(reply), 'RADARLIB_FTP_REPLY');
  assert.equal(errorCode(Object.assign(new Error('x'), { code: 'ENOSPC' })), 'ENOSPC');
  assert.equal(errorCode(new TypeError('x')), 'TypeError');
});
