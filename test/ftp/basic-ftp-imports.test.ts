/**
 * basic-ftp's values are loaded with `require` in src/ftp/basic-ftp.ts only: an ESM import of
 * them anywhere in src/ brings back Node's export scan of basic-ftp at every start (~40 ms of
 * CPU, docs/PERFORMANCE.md "Session 6: loopback CPU per file"). Type imports are erased.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FTPError as EsmFTPError } from 'basic-ftp';
import { FTPError } from '../../src/ftp/basic-ftp.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('src/ imports basic-ftp values only through src/ftp/basic-ftp.ts (elsewhere: import type)', () => {
  const offending: string[] = [];
  for (const file of sourceFiles(SRC)) {
    if (relative(SRC, file) === join('ftp', 'basic-ftp.ts')) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(import|export)\s+([^;]*?)\s+from\s+'basic-ftp[^']*'/gms)) {
      const clause = m[2] ?? '';
      if (!/^type\s/.test(clause)) offending.push(`${relative(SRC, file)}: ${m[0].replace(/\s+/g, ' ')}`);
    }
  }
  assert.deepEqual(offending, []);
});

test('the required basic-ftp is the same module as the imported one (instanceof holds across both)', () => {
  assert.equal(FTPError, EsmFTPError);
  assert.ok(new FTPError({ code: 550, message: '550 no' }) instanceof EsmFTPError);
});
