import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../src/errors.js';
import { compileTemplate, relativeRemoteDir, renderTemplate } from '../../src/radar/template.js';

const input = {
  source: 'rma',
  remotePath: '/L2/RMA11/2025/10/20/15/2828/RMA11_0315_01_DBZH_20251020T152828Z.BUFR',
  remoteRoot: '/L2',
  fallbackTime: new Date('2000-01-01T00:00:00Z'),
};

test('compileTemplate: flat, folder and full-path forms', () => {
  assert.equal(compileTemplate(''), '{name}');
  assert.equal(compileTemplate('{radar}/{yyyy}/{mm}/{dd}/'), '{radar}/{yyyy}/{mm}/{dd}/{name}');
  assert.equal(compileTemplate('{radar}/{yyyy}'), '{radar}/{yyyy}/{name}');
  assert.equal(compileTemplate('{source}/{remoteDir}/{name}'), '{source}/{remoteDir}/{name}');
});

test('compileTemplate rejects unknown placeholders and escapes', () => {
  const cases = ['/abs/{name}', '../{name}', '{radar}/../x', '{nope}/', '{radar', 'a\nb', 'C:/x'];
  for (const t of cases) {
    assert.throws(() => compileTemplate(t), InvalidArgumentError, t);
  }
  assert.throws(() => compileTemplate('{nope}/'), /unknown placeholder \{nope\}/);
});

test('renderTemplate: radar date folders from the file name', () => {
  assert.deepEqual(renderTemplate(compileTemplate('{radar}/{yyyy}/{mm}/{dd}/'), input), {
    dir: 'RMA11/2025/10/20',
    name: 'RMA11_0315_01_DBZH_20251020T152828Z.BUFR',
  });
  assert.deepEqual(renderTemplate(compileTemplate('{field}/{HH}{MM}{SS}'), input), {
    dir: 'DBZH/152828',
    name: 'RMA11_0315_01_DBZH_20251020T152828Z.BUFR',
  });
  assert.deepEqual(renderTemplate(compileTemplate(''), input).dir, '');
});

test('renderTemplate: mirror of remote folders; other names fall back to the mtime', () => {
  const other = { ...input, remotePath: '/L2/misc/readme.BUFR' };
  assert.deepEqual(renderTemplate(compileTemplate('{source}/{remoteDir}'), other), {
    dir: 'rma/misc',
    name: 'readme.BUFR',
  });
  assert.deepEqual(renderTemplate(compileTemplate('{radar}/{yyyy}'), other), {
    dir: '_unknown/2000',
    name: 'readme.BUFR',
  });
  const atRoot = { ...input, remotePath: '/L2/a.BUFR' };
  assert.deepEqual(renderTemplate(compileTemplate('{remoteDir}/'), atRoot), { dir: '', name: 'a.BUFR' });
});

test('renderTemplate refuses a rendered ".." segment', () => {
  const evil = { ...input, remotePath: '/L2/../x.BUFR' };
  assert.throws(() => renderTemplate(compileTemplate('{remoteDir}/'), evil), InvalidArgumentError);
});

test('relativeRemoteDir', () => {
  assert.equal(relativeRemoteDir('/L2', '/L2/a/b/f'), 'a/b');
  assert.equal(relativeRemoteDir('/L2/', '/L2/f'), '');
  assert.equal(relativeRemoteDir('/', '/a/f'), 'a');
});
