import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ConfigError } from '../../src/errors.js';
import {
  applyEnvOverrides,
  envNameFor,
  loadDaemonConfig,
  redactConfig,
  resolveDaemonConfig,
} from '../../src/daemon/config.js';
import { createLogger } from '../../src/observe/log.js';

const base = {
  host: 'ftp.example.com',
  username: 'user',
  password: 'pass',
  remotePath: '/radar/data',
  localDir: '/data/in',
};

const made: string[] = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'radarlib-config-'));
  made.push(dir);
  return dir;
}

function configError(fn: () => unknown, key: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.key, key);
    assert.equal(err.code, 'RADARLIB_CONFIG');
    if (message) assert.match(err.message, message);
    return true;
  });
}

test('defaults follow the original: port 21, *.BUFR, 60 s, 5 downloads, not recursive', () => {
  const c = resolveDaemonConfig(base);
  const s = c.sources[0]!;
  assert.equal(c.sources.length, 1);
  assert.equal(s.port, 21);
  assert.equal(s.filePattern, '*.BUFR');
  assert.equal(s.pollInterval, 60);
  assert.equal(s.maxConcurrentDownloads, 5);
  assert.equal(s.maxConnections, 5);
  assert.equal(s.layout, 'flat');
  assert.equal(s.localLayout, '{name}');
  assert.equal(s.name, 'ftp.example.com/radar/data');
  assert.equal(c.ledger, join('/data/in', '.radarlib', 'ledger.sqlite'));
  assert.equal(resolveDaemonConfig({ ...base, recursive: true }).sources[0]!.layout, 'recursive');
});

test('errors name the key and what is wrong', () => {
  configError(() => resolveDaemonConfig({ ...base, port: 70000 }), 'port', /70000|65535|Too big/i);
  configError(() => resolveDaemonConfig({ ...base, pollIntervall: 5 }), 'pollIntervall', /unknown key/);
  configError(() => resolveDaemonConfig({ ...base, host: undefined }), 'host', /required/);
  configError(() => resolveDaemonConfig({ ...base, secure: 'yes' }), 'secure', /explicit/);
  configError(
    () => resolveDaemonConfig({ ...base, backoff: { initialDelay: -1 } }),
    'backoff.initialDelay',
    />= 0/,
  );
  configError(() => resolveDaemonConfig({ ...base, localLayout: '{radar}/../x' }), 'localLayout', /\.\./);
  configError(
    () => resolveDaemonConfig({ ...base, localLayout: '{foo}/' }),
    'localLayout',
    /unknown placeholder/,
  );
  configError(() => resolveDaemonConfig({ ...base, layout: 'tree' }), 'layout');
  configError(() => resolveDaemonConfig({ ...base, startTime: 'yesterday' }), 'startTime', /ISO/);
  configError(
    () => resolveDaemonConfig({ ...base, sources: [{ remotePath: '/a' }, { port: 'x' }] }),
    'sources.1.port',
  );
  configError(
    () => resolveDaemonConfig({ ...base, sources: [{ name: 'a' }, { name: 'a' }] }),
    'sources.1.name',
    /duplicate/,
  );
  configError(() => resolveDaemonConfig([]), '', /mapping/);
});

test('many sources inherit top-level keys and keep their own connection cap', () => {
  const c = resolveDaemonConfig({
    localDir: '/data',
    username: 'radar',
    pollInterval: 30,
    sources: [
      { name: 'north', host: 'a.example', remotePath: '/L2', layout: 'radar-tree', maxConnections: 2 },
      { name: 'south', host: 'b.example', port: 2121, password: 'x', pollInterval: 10 },
    ],
  });
  assert.deepEqual(
    c.sources.map((s) => [s.name, s.host, s.port, s.username, s.pollInterval, s.maxConnections, s.layout]),
    [
      ['north', 'a.example', 21, 'radar', 30, 2, 'radar-tree'],
      ['south', 'b.example', 2121, 'radar', 10, 5, 'flat'],
    ],
  );
});

test('password from a file (trailing newline dropped); both password and file is an error', () => {
  const dir = tmp();
  const file = join(dir, 'pw');
  writeFileSync(file, 's3cret\n');
  const c = resolveDaemonConfig({ ...base, password: undefined, passwordFile: file });
  assert.equal(c.sources[0]!.password, 's3cret');
  configError(() => resolveDaemonConfig({ ...base, passwordFile: file }), 'password', /not both/);
  configError(
    () => resolveDaemonConfig({ ...base, password: undefined, passwordFile: join(dir, 'missing') }),
    'passwordFile',
    /ENOENT/,
  );
});

test('env names: camelCase to UPPER_SNAKE, nesting with __', () => {
  assert.equal(envNameFor('pollInterval'), 'RADARLIB_POLL_INTERVAL');
  assert.equal(envNameFor('backoff.initialDelay'), 'RADARLIB_BACKOFF__INITIAL_DELAY');
  assert.equal(envNameFor('sources.1.password'), 'RADARLIB_SOURCES__1__PASSWORD');
});

test('env overrides every kind of key, typed by the schema', () => {
  const { config, applied, warnings } = applyEnvOverrides(
    { ...base, sources: [{ name: 'a' }] },
    {
      RADARLIB_POLL_INTERVAL: '15',
      RADARLIB_RECURSIVE: 'yes',
      RADARLIB_PASSWORD: '0123', // stays a string
      RADARLIB_STRATEGIES: '0315, 0122',
      RADARLIB_BACKOFF__MAX_DELAY: '120',
      RADARLIB_SOURCES__0__HOST: 'override.example',
      RADARLIB_SOURCES__1__HOST: 'new.example',
      RADARLIB_SECURE: 'false',
      RADARLIB_TEST_CONCURRENCY: '2',
      RADARLIB_NOT_A_KEY: '1',
      PATH: '/bin',
    },
  );
  assert.equal(config['pollInterval'], 15);
  assert.equal(config['recursive'], true);
  assert.equal(config['password'], '0123');
  assert.deepEqual(config['strategies'], ['0315', '0122']);
  assert.deepEqual(config['backoff'], { maxDelay: 120 });
  assert.equal(config['secure'], false);
  assert.deepEqual(config['sources'], [{ name: 'a', host: 'override.example' }, { host: 'new.example' }]);
  assert.ok(applied.includes('RADARLIB_POLL_INTERVAL -> pollInterval'));
  assert.deepEqual(warnings, ['RADARLIB_NOT_A_KEY names no config key; ignored']);
});

test('RADARLIB_LEDGER (and its alias RADARLIB_LEDGER_URL) select the ledger', () => {
  const url = 'postgres://u:p@db/x';
  assert.equal(applyEnvOverrides(base, { RADARLIB_LEDGER: url }).config['ledger'], url);
  const alias = applyEnvOverrides(base, { RADARLIB_LEDGER_URL: url });
  assert.equal(alias.config['ledger'], url);
  assert.deepEqual(alias.warnings, []);
  assert.equal(
    applyEnvOverrides(base, { RADARLIB_LEDGER: '/a.sqlite', RADARLIB_LEDGER_URL: url }).config['ledger'],
    '/a.sqlite',
  );
});

test('env errors name the variable and the key', () => {
  assert.throws(
    () => applyEnvOverrides(base, { RADARLIB_PORT: 'twenty-one' }),
    (err: unknown) => err instanceof ConfigError && err.key === 'port' && /RADARLIB_PORT/.test(err.message),
  );
  assert.throws(
    () => applyEnvOverrides(base, { RADARLIB_BACKOFF: '5' }),
    (err: unknown) =>
      err instanceof ConfigError && err.key === 'backoff' && /RADARLIB_BACKOFF__/.test(err.message),
  );
});

test('loadDaemonConfig: YAML file + env, errors name the file', async () => {
  const dir = tmp();
  const file = join(dir, 'radarlib.yaml');
  writeFileSync(
    file,
    [
      'host: ftp.example.com',
      'username: radar',
      'remotePath: /L2',
      `localDir: ${dir}`,
      'layout: radar-tree',
      'radars: [RMA1, RMA11]',
      'pollInterval: 30',
    ].join('\n'),
  );
  const loaded = await loadDaemonConfig({
    file,
    env: { RADARLIB_PASSWORD: 'from-env', RADARLIB_POLL_INTERVAL: '5' },
  });
  const s = loaded.config.sources[0]!;
  assert.equal(s.password, 'from-env');
  assert.equal(s.pollInterval, 5);
  assert.deepEqual(s.radars, ['RMA1', 'RMA11']);

  writeFileSync(file, 'host: [unclosed');
  await assert.rejects(
    loadDaemonConfig({ file, env: {} }),
    (err: unknown) => err instanceof ConfigError && err.source === file,
  );
  writeFileSync(file, `host: h\nlocalDir: ${dir}\nmaxAttempts: 0\n`);
  await assert.rejects(
    loadDaemonConfig({ file, env: {} }),
    (err: unknown) => err instanceof ConfigError && err.key === 'maxAttempts' && err.message.includes(file),
  );
  await assert.rejects(loadDaemonConfig({ file: join(dir, 'nope.yaml'), env: {} }), /ENOENT/);
});

test('the password never reaches a log line or a printed config', () => {
  const config = resolveDaemonConfig({ ...base, password: 'hunter2', ledger: 'postgres://u:dbsecret@db/x' });
  const redacted = redactConfig(config);
  assert.ok(!JSON.stringify(redacted).includes('hunter2'));
  assert.ok(!JSON.stringify(redacted).includes('dbsecret'));
  assert.equal(config.sources[0]!.password, 'hunter2', 'the original is untouched');

  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const log = createLogger({ destination: sink, pretty: false });
  log.info({ config }, 'config');
  log.info({ password: 'hunter2', source: { password: 'hunter2' } }, 'direct');
  assert.ok(out.length > 0);
  assert.ok(!out.includes('hunter2'), out);
});

test('deploy/radarlib.example.yaml is a valid config', async () => {
  const file = new URL('../../deploy/radarlib.example.yaml', import.meta.url).pathname;
  const { config, warnings } = await loadDaemonConfig({ file, env: { RADARLIB_PASSWORD: 'x' } });
  assert.deepEqual(warnings, []);
  assert.equal(config.sources[0]!.layout, 'radar-tree');
  assert.equal(config.sources[0]!.localLayout, '{radar}/{yyyy}/{mm}/{dd}/{name}');
});
