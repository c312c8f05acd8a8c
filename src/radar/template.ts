/**
 * Local path templates: where a downloaded file lands under its source's `localDir`.
 *
 *   ''                              -> flat: `<localDir>/<name>`
 *   '{radar}/{yyyy}/{mm}/{dd}/'     -> `<localDir>/RMA11/2025/10/20/<name>`
 *   '{source}/{remoteDir}/{name}'   -> mirrors the remote folders under the source name
 *
 * Pure functions, no I/O. Every rendered segment is checked, so a template can never produce a
 * path outside `localDir` (no `..`, no absolute path, no NUL/CR/LF), whatever the remote names are.
 */
import { InvalidArgumentError } from '../errors.js';
import { remoteBaseName } from '../util/remote-path.js';
import { parseRadarFileName } from './filename.js';

/** The placeholders a template may use. Times are UTC. */
export const TEMPLATE_PLACEHOLDERS = [
  'source',
  'radar',
  'strategy',
  'volume',
  'field',
  'yyyy',
  'mm',
  'dd',
  'HH',
  'MM',
  'SS',
  'remoteDir',
  'name',
] as const;

export type TemplatePlaceholder = (typeof TEMPLATE_PLACEHOLDERS)[number];

/** What a template is rendered from. */
export interface TemplateInput {
  /** Source name (from the config). */
  source: string;
  /** Absolute remote path of the file. */
  remotePath: string;
  /** The folder the source lists (`remotePath` in the config); `{remoteDir}` is relative to it. */
  remoteRoot: string;
  /**
   * Time used for `{yyyy}`... when the name does not carry one (not a radar file name): the
   * remote mtime, else the time of download.
   */
  fallbackTime: Date;
}

function templateError(template: string, reason: string): InvalidArgumentError {
  return new InvalidArgumentError('localLayout', `${JSON.stringify(template)}: ${reason}`);
}

/** Value used for radar placeholders when the file name is not a radar volume name. */
export const UNKNOWN_SEGMENT = '_unknown';

const PLACEHOLDER = /\{([^{}]*)\}/g;

/**
 * Checks a template once (at config time): known placeholders only, relative, no `..` segment.
 * Returns the template normalised to a full-path form (with `{name}` appended when absent).
 */
export function compileTemplate(template: string): string {
  const t = template.trim();
  if (t.startsWith('/') || /^[A-Za-z]:/.test(t)) throw templateError(template, 'must be relative');
  if (/[\0\r\n\\]/.test(t)) throw templateError(template, 'contains NUL, CR, LF or a backslash');
  for (const m of t.matchAll(PLACEHOLDER)) {
    const name = m[1] ?? '';
    if (!(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name)) {
      throw templateError(
        template,
        `unknown placeholder {${name}} (known: ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')})`,
      );
    }
  }
  if (t.replace(PLACEHOLDER, '').includes('{') || t.replace(PLACEHOLDER, '').includes('}')) {
    throw templateError(template, 'unbalanced brace');
  }
  for (const seg of t.split('/')) {
    if (seg === '..' || seg === '.') throw templateError(template, `segment "${seg}" is not allowed`);
  }
  if (t === '') return '{name}';
  if (t.includes('{name}')) return t;
  return t.endsWith('/') ? `${t}{name}` : `${t}/{name}`;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** The value of every placeholder for one file. */
export function templateValues(input: TemplateInput): Record<TemplatePlaceholder, string> {
  const name = remoteBaseName(input.remotePath);
  const parsed = parseRadarFileName(name);
  const time = parsed?.time ?? input.fallbackTime;
  return {
    source: input.source,
    radar: parsed?.radar ?? UNKNOWN_SEGMENT,
    strategy: parsed?.strategy ?? UNKNOWN_SEGMENT,
    volume: parsed?.volume ?? UNKNOWN_SEGMENT,
    field: parsed?.field ?? UNKNOWN_SEGMENT,
    yyyy: pad(time.getUTCFullYear(), 4),
    mm: pad(time.getUTCMonth() + 1),
    dd: pad(time.getUTCDate()),
    HH: pad(time.getUTCHours()),
    MM: pad(time.getUTCMinutes()),
    SS: pad(time.getUTCSeconds()),
    remoteDir: relativeRemoteDir(input.remoteRoot, input.remotePath),
    name,
  };
}

/** The remote folder of `remotePath` relative to `root` (`''` when the file is directly in it). */
export function relativeRemoteDir(root: string, remotePath: string): string {
  const dir = remotePath.slice(0, Math.max(0, remotePath.lastIndexOf('/')));
  const r = root.replace(/\/+$/, '');
  const rel = dir === r ? '' : dir.startsWith(`${r}/`) ? dir.slice(r.length + 1) : dir.replace(/^\/+/, '');
  return rel;
}

/** A rendered segment that would escape the folder, or is not a plain name. */
function unsafeSegment(seg: string): string | null {
  if (seg === '..' || seg === '.') return `segment "${seg}"`;
  if (/[\0\r\n\\]/.test(seg)) return 'NUL, CR, LF or backslash';
  return null;
}

/**
 * Renders a compiled template into a relative path (`/`-separated) whose last segment is the
 * file name. Empty segments (e.g. `{remoteDir}` of a file at the root) are dropped.
 * @throws InvalidArgumentError (option `localLayout`) when a rendered segment is unsafe.
 */
export function renderTemplate(compiled: string, input: TemplateInput): { dir: string; name: string } {
  const values = templateValues(input);
  const rendered = compiled.replace(PLACEHOLDER, (_m, key: string) => values[key as TemplatePlaceholder]);
  const segments = rendered.split('/').filter((s) => s !== '');
  for (const seg of segments) {
    const why = unsafeSegment(seg);
    if (why !== null) throw templateError(compiled, `rendered path ${JSON.stringify(rendered)}: ${why}`);
  }
  const name = segments.pop();
  if (name === undefined) throw templateError(compiled, 'renders to an empty path');
  return { dir: segments.join('/'), name };
}
