/**
 * The README's TypeScript snippets are the `#region readme` parts of files under examples/,
 * word for word, so what the README shows is what CI typechecks (here and against the installed
 * tarball in install.test.ts) and runs (examples.test.ts, test/daemon/examples.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The `// #region readme` … `// #endregion readme` parts of a file, in order, joined. */
export function readmeRegions(source: string): string {
  const out: string[] = [];
  let inside = false;
  for (const line of source.split('\n')) {
    if (line === '// #region readme') inside = true;
    else if (line === '// #endregion readme') inside = false;
    else if (inside) out.push(line);
  }
  return out.join('\n').trim();
}

/** Every ```ts block of a markdown text, with the example file its first line names. */
export function tsBlocks(markdown: string): { source: string | null; body: string }[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => {
    const text = (m[1] ?? '').trim();
    const first = /^\/\/ (examples\/[\w.-]+\.ts)\n/.exec(text);
    return { source: first?.[1] ?? null, body: first === null ? text : text.slice(first[0].length).trim() };
  });
}

test('readmeRegions joins the marked parts and nothing else', () => {
  const src =
    'a\n// #region readme\nb\n// #endregion readme\nc\n// #region readme\n\nd\n// #endregion readme\n';
  assert.equal(readmeRegions(src), 'b\n\nd');
});

test('every TypeScript snippet of the README is an examples/ file region, word for word', () => {
  const blocks = tsBlocks(readFileSync(`${ROOT}README.md`, 'utf8'));
  assert.ok(blocks.length >= 3, `expected the README's ts snippets, found ${blocks.length}`);
  for (const [i, block] of blocks.entries()) {
    assert.ok(block.source !== null, `README ts block ${i + 1} does not start with "// examples/<file>.ts"`);
    const regions = readmeRegions(readFileSync(`${ROOT}${block.source}`, 'utf8'));
    assert.ok(regions !== '', `${block.source} has no "#region readme" part`);
    assert.equal(
      block.body,
      regions,
      `README ts block ${i + 1} differs from the readme regions of ${block.source}`,
    );
  }
});
