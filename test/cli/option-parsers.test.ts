/**
 * Bad command-line values are typed errors naming the option (src/cli/option-parsers.ts and the
 * commands' own checks), so the CLI prints them as one line with their code, like every other
 * radarlib error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCliError } from '../../src/cli/errors.js';
import { buildProgram } from '../../src/cli/main.js';
import { positiveInt } from '../../src/cli/option-parsers.js';
import { InvalidArgumentError } from '../../src/errors.js';

test('positiveInt takes integers >= 1 and names the option otherwise', () => {
  const limit = positiveInt('--limit');
  assert.equal(limit('1'), 1);
  assert.equal(limit('250'), 250);
  for (const bad of ['0', '-3', '1.5', 'ten', '']) {
    assert.throws(
      () => limit(bad),
      (e: unknown) =>
        e instanceof InvalidArgumentError &&
        e.option === '--limit' &&
        e.message === `Invalid --limit: expected an integer >= 1, got ${JSON.stringify(bad)}`,
    );
  }
});

async function failure(args: string[]): Promise<string> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    assert.ok(err instanceof InvalidArgumentError, String(err));
    return formatCliError(err, false);
  }
  assert.fail(`radarlib ${args.join(' ')} did not fail`);
}

test('the commands refuse bad values before touching a ledger or a server', async () => {
  assert.equal(
    await failure(['status', '--ledger', '/nonexistent/ledger.sqlite', '--limit', '0']),
    'radarlib: Invalid --limit: expected an integer >= 1, got "0" [RADARLIB_INVALID_ARGUMENT]\n',
  );
  assert.match(
    await failure(['daemon', '--config', '/nonexistent.yaml', '--max-iterations', 'x']),
    /^radarlib: Invalid --max-iterations: expected an integer >= 1, got "x" \[RADARLIB_INVALID_ARGUMENT\]\n$/,
  );
  assert.match(
    await failure(['get', 'ftp://127.0.0.1:9', '--to', '/nonexistent']),
    /^radarlib: Invalid paths: get needs at least one remote path \[RADARLIB_INVALID_ARGUMENT\]\n$/,
  );
});
