/**
 * The status page: one HTML document with inline CSS and JS (no build step). The script polls
 * `api/status` (relative, so the page also works behind a path prefix) and rebuilds the tables
 * with `textContent` only, so no value from the ledger or a server can inject markup.
 */

export interface PageOptions {
  /** CSP nonce of the inline script and style. */
  nonce: string;
  /** Poll period of the page, ms. */
  refreshMs: number;
}

const STYLE = `
:root { color-scheme: dark; --bg:#0c111c; --panel:#151d2e; --line:#26324a; --text:#e2e6ee; --dim:#8b96ab;
  --ok:#3ecf7a; --bad:#ff5c5c; --warn:#f0b429; --accent:#4ea1ff; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", sans-serif;
  background:var(--bg); color:var(--text); }
header { display:flex; gap:16px; align-items:center; padding:12px 20px; border-bottom:1px solid var(--line); }
header h1 { font-size:18px; margin:0; font-weight:600; }
main { padding:16px 20px; display:grid; gap:16px; }
section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
section h2 { font-size:15px; margin:0 0 8px; }
.dim { color:var(--dim); }
.badge { padding:2px 10px; border-radius:999px; font-weight:600; font-size:12px; }
.badge.ok { background:#123d27; color:var(--ok); } .badge.bad { background:#4a1616; color:var(--bad); }
.badge.wait { background:#3a3214; color:var(--warn); }
.sources { display:grid; gap:12px; grid-template-columns:repeat(auto-fit, minmax(380px, 1fr)); }
.kv { display:grid; grid-template-columns:max-content 1fr; gap:2px 12px; margin:6px 0; }
.kv dt { color:var(--dim); } .kv dd { margin:0; }
.chips { display:flex; flex-wrap:wrap; gap:6px; margin:8px 0; }
.chip { border:1px solid var(--line); border-radius:6px; padding:2px 8px; }
.chip b { font-variant-numeric:tabular-nums; }
.chip.failed b { color:var(--bad); } .chip.done b { color:var(--ok); }
table { border-collapse:collapse; width:100%; font-variant-numeric:tabular-nums; }
th, td { text-align:left; padding:4px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--dim); font-weight:500; }
td.num, th.num { text-align:right; }
td.err { color:var(--bad); max-width:520px; overflow-wrap:anywhere; }
.ok { color:var(--ok); } .bad { color:var(--bad); } .warn { color:var(--warn); }
.looks { display:flex; flex-wrap:wrap; gap:14px; }
figure { margin:0; } figure img { display:block; width:min(572px, 90vw); height:auto; border-radius:6px;
  border:1px solid var(--line); background:#0c111c; }
figcaption { color:var(--dim); margin-top:4px; }
td, dd, figcaption, .chip { unicode-bidi:isolate; }
button { background:var(--accent); color:#06101f; border:0; border-radius:6px; padding:4px 10px; font-weight:600;
  cursor:pointer; } button:disabled { opacity:.5; cursor:default; }
select { background:var(--panel); color:var(--text); border:1px solid var(--line); border-radius:6px; padding:2px 6px; }
#message { min-height:1.4em; }
.empty { color:var(--dim); font-style:italic; }
`;

const SCRIPT = `
'use strict';
const REFRESH_MS = __REFRESH__;
const $ = (sel) => document.querySelector(sel);
let field = null;
let chosen = false; // the user picked a field: keep it while it exists
let last = null;

// Bidi controls (U+202A-E, U+2066-9, U+200E/F, U+061C) and other control characters in a remote
// name could make it read as another name: they are shown as visible escapes.
const INVISIBLE = /[\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]/g;
function visible(v) {
  return typeof v === 'string'
    ? v.replace(INVISIBLE, (c) => '\\\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
    : v;
}
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = visible(v);
    else if (k === 'title') el.title = visible(v);
    else if (k.startsWith('data-')) el.setAttribute(k, v);
    else el[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}
function bytes(n) {
  if (n === null || n === undefined) return '-';
  const u = ['B', 'KiB', 'MiB', 'GiB']; let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + ' ' + u[i];
}
function rate(bps) { return bps === null || bps === undefined ? '-' : bytes(bps) + '/s'; }
function ago(iso, now) {
  if (!iso) return 'never';
  const ms = now - Date.parse(iso);
  if (ms < 0) return 'in ' + dur(Math.max(1, Math.round(-ms / 1000)));
  return dur(Math.round(ms / 1000)) + ' ago';
}
function dur(s) {
  if (s < 90) return s + ' s';
  if (s < 5400) return Math.round(s / 60) + ' min';
  return (s / 3600).toFixed(1) + ' h';
}
function clock(iso) { return iso ? new Date(iso).toISOString().slice(11, 19) + 'Z' : '-'; }
function table(head, rows, empty) {
  if (rows.length === 0) return h('p', { class: 'empty', text: empty });
  return h('table', {}, h('thead', {}, h('tr', {}, ...head.map(([t, c]) => h('th', { class: c, text: t })))),
    h('tbody', {}, ...rows));
}

// Makes old look like next but keeps every node still in place: the page refreshes several times a
// second, and a button replaced between the press and the release loses the user's click. Rows
// keep their nodes by file path (data-path), so a new failure above a row does not hand the row's
// button to its neighbour; other children match by position. Returns the node now in old's place.
function morph(old, next) {
  if (old.nodeType !== next.nodeType || old.nodeName !== next.nodeName) { old.replaceWith(next); return next; }
  if (old.nodeType !== 1) { if (old.nodeValue !== next.nodeValue) old.nodeValue = next.nodeValue; return old; }
  for (const a of [...old.attributes]) if (!next.hasAttribute(a.name)) old.removeAttribute(a.name);
  for (const a of [...next.attributes]) if (old.getAttribute(a.name) !== a.value) old.setAttribute(a.name, a.value);
  old.onclick = next.onclick;
  const key = (c) => (c.nodeType === 1 ? c.getAttribute('data-path') : null);
  const had = [...old.childNodes];
  const byKey = new Map(had.filter((c) => key(c) !== null).map((c) => [key(c), c]));
  const unkeyed = had.filter((c) => key(c) === null);
  const wanted = [...next.childNodes];
  wanted.forEach((c, i) => {
    const k = key(c);
    const match = k !== null ? byKey.get(k) : unkeyed.shift();
    if (k !== null) byKey.delete(k);
    const node = match ? morph(match, c) : c;
    if (old.childNodes[i] !== node) old.insertBefore(node, old.childNodes[i] ?? null);
  });
  while (old.childNodes.length > wanted.length) old.lastChild.remove();
  return old;
}

async function retry(source, button) {
  if (button) button.disabled = true;
  try {
    const res = await fetch('api/retry', { method: 'POST', headers: { 'content-type': 'application/json',
      'x-radarlib-action': 'retry' }, body: JSON.stringify(source ? { source } : {}) });
    const body = await res.json();
    $('#message').textContent = res.ok
      ? 'Re-queued ' + body.requeued + ' failed file(s)' + (source ? ' of ' + source : '') + '.'
      : 'Retry failed: ' + body.error;
    $('#message').className = res.ok ? 'ok' : 'bad';
  } catch (e) {
    $('#message').textContent = 'Retry failed: ' + e.message; $('#message').className = 'bad';
  }
  // A refresh meanwhile may have given this button to another row (see morph).
  if (button) button.disabled = false;
  refresh();
}

function renderSources(s, now) {
  const box = $('#sources'); box.replaceChildren();
  for (const src of s.sources) {
    const p = src.lastPoll;
    const result = !p ? h('span', { class: 'dim', text: 'not yet' })
      : p.ok ? h('span', { class: 'ok', text: (p.skippedListing ? 'ok (another instance listed)' : 'ok') +
          ' · ' + p.listed + ' listed, ' + p.added + ' new, ' + p.downloaded + ' downloaded' +
          (p.failed ? ', ' + p.failed + ' failed' : '') + ' in ' + (p.durationMs / 1000).toFixed(1) + ' s' })
      : h('span', { class: 'bad', text: p.error });
    const next = src.nextPollAt === null ? 'after the first poll'
      : Date.parse(src.nextPollAt) <= now ? 'now (polling)' : ago(src.nextPollAt, now);
    const c = src.counts;
    const chips = h('div', { class: 'chips' }, ...(c ? [['seen', c.seen], ['ready', c.ready],
      ['downloading', c.downloading], ['done', c.done], ['failed', c.failed]] : []).map(([k, v]) =>
      h('span', { class: 'chip ' + k, 'data-state': k }, k + ' ', h('b', { text: String(v) }))));
    const lat = (radar) => (s.latency || []).find((l) => l.source === src.name && l.radar === radar);
    const load = (s.pipeline || []).find((x) => x.source === src.name);
    const radars = table([['Radar'], ['Newest file'], ['Lag', 'num'], ['Server → processed p50 / p95', 'num']], src.radars.map((r) =>
      h('tr', { 'data-radar': r.radar }, h('td', { text: r.radar }), h('td', { text: r.newestFileTime.replace('T', ' ').slice(0, 19) + 'Z' }),
        h('td', { class: 'num ' + (r.lagSeconds > 3 * src.pollInterval + 600 ? 'warn' : ''), text: dur(Math.round(r.lagSeconds)) }),
        h('td', { class: 'num latency', text: lat(r.radar) ? lat(r.radar).p50Seconds + ' s / ' + lat(r.radar).p95Seconds + ' s' : '-' }))),
      'no files downloaded yet');
    box.append(h('section', { class: 'source', 'data-source': src.name },
      h('h2', {}, src.name + ' ', h('span', { class: 'badge ' + (src.healthy ? 'ok' : 'bad'), text: src.healthy ? 'healthy' : 'unhealthy' })),
      h('dl', { class: 'kv' },
        h('dt', { text: 'Server' }), h('dd', { text: src.host + ':' + src.port + '  ' + src.remotePath + '  (' + src.layout + ')' }),
        h('dt', { text: 'Last poll' }), h('dd', {}, (p ? clock(p.at) + ' (' + ago(p.at, now) + ') · ' : ''), result),
        h('dt', { text: 'Next poll' }), h('dd', { text: next + ' · every ' + src.pollInterval + ' s' }),
        ...(load ? [h('dt', { text: 'Server load' }), h('dd', { class: 'load' + (load.callbacksBottleneck ? ' warn' : ''), text: (load.commandsPerMinute === null ? '' : Math.round(load.commandsPerMinute) + ' commands/min, ') +
          Math.round(load.listingsPerMinute) + ' listings/min' + (load.callbacksBottleneck ? ' · callbacks are the bottleneck' : '') })] : []),
        ...(src.healthReason ? [h('dt', { text: 'Health' }), h('dd', { class: 'bad', text: src.healthReason })] : []),
        // A folder the server refuses is one folder: the others were listed (issue 11).
        ...(p && p.folderErrors && p.folderErrors.length ? [h('dt', { text: 'Folder errors' }), h('dd', { class: 'folder-errors' },
          ...p.folderErrors.map((f) => h('div', { class: 'bad', 'data-folder': f.path, text: f.path + ': ' + f.error })))] : [])),
      chips, radars));
  }
}

function renderLooks(s) {
  const sel = $('#field');
  if (!chosen || !s.fields.includes(field)) field = s.fields.includes(s.defaultField) ? s.defaultField : (s.fields[0] || null);
  if (sel.dataset.fields !== s.fields.join(',')) {
    sel.replaceChildren(...s.fields.map((f) => h('option', { value: f, text: f })));
    sel.dataset.fields = s.fields.join(',');
  }
  if (field) sel.value = field;
  const box = $('#looks');
  const want = [];
  for (const src of s.sources) for (const r of src.radars) {
    const q = r.quicklooks[field];
    if (q) want.push({ key: src.name + '/' + r.radar, src: src.name, radar: r.radar, q });
  }
  if (want.length === 0) { box.replaceChildren(h('p', { class: 'empty', text: 'no volume downloaded yet' })); return; }
  const keep = new Map([...box.querySelectorAll('figure')].map((f) => [f.dataset.key, f]));
  const figs = want.map((w) => {
    let fig = keep.get(w.key);
    if (!fig) {
      fig = h('figure', { 'data-key': w.key }, h('img', { class: 'quicklook', alt: 'quick-look of ' + w.radar,
        'data-radar': w.radar, 'data-source': w.src }), h('figcaption'));
    }
    const img = fig.querySelector('img');
    // Only a new volume changes the URL, so the image does not flicker on every refresh.
    if (img.getAttribute('src') !== w.q.url) img.setAttribute('src', w.q.url);
    fig.querySelector('figcaption').textContent = w.radar + ' · ' + field + ' · ' + w.q.file;
    return fig;
  });
  box.replaceChildren(...figs);
}

function render(s) {
  last = s;
  const now = Date.parse(s.generatedAt);
  const badge = $('#health');
  badge.textContent = s.healthy ? 'healthy' : 'unhealthy';
  badge.className = 'badge ' + (s.healthy ? 'ok' : 'bad');
  $('#updated').textContent = 'updated ' + clock(s.generatedAt) + ' · ledger ' + (s.ledger.backend || 'not open yet') +
    (s.ledger.error ? ' (error: ' + s.ledger.error + ')' : '');
  renderSources(s, now);
  renderLooks(s);
  $('#downloads').replaceChildren(table([['Time'], ['Source'], ['File'], ['Size', 'num'], ['Duration', 'num'], ['Throughput', 'num']],
    s.recentDownloads.map((d) => h('tr', { 'data-path': d.remotePath }, h('td', { text: clock(d.at) }), h('td', { text: d.source }),
      h('td', { text: d.name, title: d.remotePath }), h('td', { class: 'num', text: bytes(d.size) }),
      h('td', { class: 'num', text: d.durationMs === null ? '-' : (d.durationMs / 1000).toFixed(2) + ' s' }),
      h('td', { class: 'num', text: rate(d.bytesPerSecond) }))), 'nothing downloaded yet'));
  const failed = s.recentFailures.filter((f) => f.state === 'failed');
  $('#retry-all').disabled = failed.length === 0;
  const failures = $('#failures');
  const shown = table([['Time'], ['Source'], ['File'], ['Attempts', 'num'], ['Error'], ['State'], ['']],
    s.recentFailures.map((f) => h('tr', { 'data-path': f.remotePath, 'data-state': f.state },
      h('td', { text: clock(f.at) }), h('td', { text: f.source }), h('td', { text: f.name, title: f.remotePath }),
      h('td', { class: 'num', text: String(f.attempts) }), h('td', { class: 'err', text: f.error }),
      h('td', { class: f.state === 'failed' ? 'bad' : 'warn', text: f.state === 'failed' ? 'failed (parked)' : (f.retryAt && Date.parse(f.retryAt) > now ? 'retrying ' + ago(f.retryAt, now) : 'retry due') }),
      h('td', {}, f.state === 'failed' ? h('button', { class: 'retry', 'data-source': f.source, text: 'Retry',
        title: 'Re-queue the failed files of ' + f.source + ' (radarlib retry-failed)',
        onclick: (e) => retry(f.source, e.target) }) : null))), 'no failures');
  if (failures.firstElementChild) morph(failures.firstElementChild, shown); else failures.replaceChildren(shown);
}

async function refresh() {
  try {
    const res = await fetch('api/status', { cache: 'no-store' });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    render(await res.json());
    $('#conn').textContent = '';
  } catch (e) {
    $('#conn').textContent = 'cannot reach the daemon: ' + e.message;
  }
}
async function loop() {
  await refresh();
  setTimeout(loop, REFRESH_MS);
}
$('#field').addEventListener('change', (e) => { field = e.target.value; chosen = true; if (last) renderLooks(last); });
$('#retry-all').addEventListener('click', (e) => retry(null, e.target));
loop();
`;

/** The whole page. */
export function renderStatusPage(options: PageOptions): string {
  const script = SCRIPT.replace('__REFRESH__', String(Math.max(250, Math.round(options.refreshMs))));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>radarlib status</title>
<style nonce="${options.nonce}">${STYLE}</style>
</head>
<body>
<header>
  <h1>radarlib</h1>
  <span id="health" class="badge wait">loading</span>
  <span id="updated" class="dim"></span>
  <span id="conn" class="bad"></span>
</header>
<main>
  <div id="sources" class="sources"></div>
  <section>
    <h2>Quick-look <select id="field" aria-label="field"></select>
      <span class="dim">lowest sweep of the latest volume per radar</span></h2>
    <div id="looks" class="looks"></div>
  </section>
  <section>
    <h2>Recent downloads</h2>
    <div id="downloads"></div>
  </section>
  <section>
    <h2>Recent failures <button id="retry-all" type="button" disabled>Retry all failed</button></h2>
    <div id="message"></div>
    <div id="failures"></div>
  </section>
</main>
<script nonce="${options.nonce}">${script}</script>
</body>
</html>
`;
}
