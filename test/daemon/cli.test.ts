import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Command } from 'commander';
import { EXIT_CONFIG, registerDaemonCommand, runDaemonCommand } from '../../src/cli/commands/daemon.js';
import { registerRetryFailedCommand, retryFailed } from '../../src/cli/commands/retry-failed.js';
import { formatStatus, registerStatusCommand, statusReport } from '../../src/cli/commands/status.js';
import { textSink } from '../helpers/text-sink.js';
import { rig, writeYamlConfig, type Rig } from './helpers/setup.js';

function configFile(r: Rig, extra: Record<string, unknown> = {}): string {
  return writeYamlConfig(r, { maxAttempts: 1, ...extra });
}

test('daemon --once, status, retry-failed', async (t) => {
  const r = await rig(t);
  r.put('/data/good.BUFR', 'good');
  r.put('/data/bad.BUFR', 'bad');
  r.server.setRefuse((p) => p.endsWith('bad.BUFR'));
  const config = configFile(r);
  const env = { RADARLIB_PASSWORD: r.server.password };

  const logs = textSink();
  const code = await runDaemonCommand(
    { config, once: true, logFormat: 'json' },
    { env, destination: logs.stream, handleSignals: false },
  );
  assert.equal(code, 0);
  const lines = logs
    .text()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg: string; remotePath?: string });
  assert.ok(lines.some((l) => l.msg === 'file downloaded' && l.remotePath === '/data/good.BUFR'));
  assert.ok(lines.some((l) => l.msg === 'download failed, giving up' && l.remotePath === '/data/bad.BUFR'));
  assert.ok(!logs.text().includes(r.server.password), 'password never logged');

  const report = await statusReport({ config });
  assert.equal(report.counts.processed, 1);
  assert.equal(report.counts.failed, 1);
  const text = formatStatus(report);
  assert.match(text, /processed\s+1/);
  assert.match(text, /\/data\/bad\.BUFR\s+after 1 attempts: RADARLIB_FTP_REPLY/);
  assert.match(text, /\/data\/good\.BUFR/);

  const ledger = join(r.local, '.radarlib', 'ledger.sqlite');
  assert.equal(await retryFailed({ ledger }), 1);
  assert.equal((await statusReport({ ledger })).counts.ready, 1);

  r.server.setRefuse(undefined);
  assert.equal(
    await runDaemonCommand(
      { config, once: true },
      { env, destination: textSink().stream, handleSignals: false },
    ),
    0,
  );
  assert.equal((await statusReport({ ledger })).counts.processed, 2);
});

test('daemon: a bad config exits 78 naming the key; --print-config redacts the password', async (t) => {
  const r = await rig(t);
  const config = configFile(r, { maxConcurrentDownloads: 'many' });
  const logs = textSink();
  const code = await runDaemonCommand(
    { config, logFormat: 'json' },
    { env: {}, destination: logs.stream, handleSignals: false },
  );
  assert.equal(code, EXIT_CONFIG);
  const fatal = JSON.parse(logs.text().trim().split('\n').pop()!) as { key: string; msg: string };
  assert.equal(fatal.key, 'maxConcurrentDownloads');
  assert.match(fatal.msg, /maxConcurrentDownloads/);

  const good = configFile(r);
  const out = textSink();
  assert.equal(
    await runDaemonCommand(
      { config: good, printConfig: true },
      { env: { RADARLIB_PASSWORD: 'topsecret' }, destination: out.stream, handleSignals: false },
    ),
    0,
  );
  assert.ok(!out.text().includes('topsecret'));
  assert.match(out.text(), /\[redacted\]/);

  const envErr = textSink();
  assert.equal(
    await runDaemonCommand(
      { config: good, logFormat: 'json' },
      { env: { RADARLIB_POLL_INTERVAL: 'soon' }, destination: envErr.stream, handleSignals: false },
    ),
    EXIT_CONFIG,
  );
  assert.match(envErr.text(), /RADARLIB_POLL_INTERVAL/);
});

test('the commands register on a commander program', () => {
  const program = new Command('radarlib');
  registerDaemonCommand(program);
  registerStatusCommand(program);
  registerRetryFailedCommand(program);
  assert.deepEqual(
    program.commands.map((c) => c.name()),
    ['daemon', 'status', 'retry-failed'],
  );
  const daemon = program.commands[0]!;
  assert.ok(daemon.options.some((o) => o.long === '--config'));
  assert.ok(daemon.options.some((o) => o.long === '--http'));
});
