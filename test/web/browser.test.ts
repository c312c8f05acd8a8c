/**
 * The status page in a real browser (Debian's Chromium driven by playwright-core) while the demo
 * pipeline runs in this process: embedded FTP server + synthetic network + FTPDaemon (SQLite) +
 * status page. Sees files arrive, a refused file fail, Retry bring it back, and a quick-look that
 * is a real picture. `RADARLIB_SCREENSHOT=docs/status-page.png` also saves a screenshot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { readRadarVolume } from '../../src/bufr/index.js';
import { startDemo, type DemoHandle } from '../../src/demo/run-demo.js';
import { lowestSweep, ppiLayout, REFLECTIVITY_SCALE, sweepRangeKm } from '../../src/render/index.js';
import type { StatusSnapshot } from '../../src/web/index.js';
import { annulusDataFraction, decodePng, syntheticRingKm } from '../render/helpers.js';
import { scaled } from '../helpers/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const WAIT = scaled(20_000);
/** Page-side expression (a string: this file is compiled without DOM types): quick-looks loaded. */
const LOADED_IMAGES =
  '[...document.querySelectorAll(\'img.quicklook[src*="field=DBZH"]\')].filter((i) => i.complete && i.naturalWidth > 0).length';

async function until<T>(what: string, fn: () => Promise<T | null | undefined>, timeoutMs = WAIT): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < deadline && i < 10_000; i++) {
    const v = await fn();
    if (v !== null && v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Count of re-renders of the downloads table (replaced on every refresh), as a page expression. */
const RENDERS = 'window.__renders';
/** Every text the page's message line has shown since the press began, as a page expression. */
const MESSAGES = 'window.__messages';

/**
 * Presses `button` with the mouse, holds it until the page has refreshed at least once, releases,
 * and waits for the page's "Re-queued" message. A press that missed the button, or a release after
 * the layout moved (a table above grew), is not a user's click on it: then it presses again, at
 * most ten times. Only a release on the button, where it was pressed, must count as a click.
 */
async function pressAcrossRefresh(page: Page, button: Locator): Promise<void> {
  // Every message the page shows is kept: a press whose release seemed off the button may still
  // have been a click, and its "Re-queued 1" is then overwritten by the next press's "Re-queued 0".
  await page.evaluate(
    `${RENDERS} = 0; new MutationObserver(() => ${RENDERS}++).observe(document.querySelector('#downloads'), { childList: true });
     ${MESSAGES} = []; const m = document.querySelector('#message');
     new MutationObserver(() => ${MESSAGES}.push(m.textContent)).observe(m, { childList: true, characterData: true, subtree: true })`,
  );
  const requeued = `${MESSAGES}.some((m) => /Re-queued [1-9]\\d* failed file/.test(m))`;
  for (let attempt = 1; attempt <= 10; attempt++) {
    // A refresh can replace the row between finding the button and scrolling to it: a missed
    // press, like the others below (the locator finds the new button on the next try).
    const pressedAt = await button
      .scrollIntoViewIfNeeded({ timeout: 5_000 })
      .then(() => button.boundingBox())
      .catch((e: Error) => {
        if (/not attached to the DOM/.test(e.message)) return undefined;
        throw e;
      });
    if (pressedAt === undefined) continue;
    assert.ok(pressedAt !== null, 'the Retry button is on screen');
    const x = pressedAt.x + pressedAt.width / 2;
    const y = pressedAt.y + pressedAt.height / 2;
    await page.mouse.move(x, y);
    const renders = (await page.evaluate(RENDERS)) as number;
    const onButton = button.evaluate(
      (el, [px, py]) =>
        (el.ownerDocument as unknown as { elementFromPoint(x: number, y: number): unknown }).elementFromPoint(
          px as number,
          py as number,
        ) === el,
      [x, y],
    );
    if (!(await onButton)) continue;
    await page.mouse.down();
    await page.waitForFunction(`${RENDERS} > ${renders}`);
    const releasedAt = await button.boundingBox();
    await page.mouse.up();
    if (JSON.stringify(releasedAt) === JSON.stringify(pressedAt)) {
      await page.waitForFunction(requeued).catch((e: Error) => {
        throw new Error(`a press held across a refresh was not taken as a click: ${e.message}`);
      });
      return;
    }
    if ((await page.evaluate(requeued)) === true) return;
  }
  assert.fail('the Retry button was never still under the mouse for a whole press in 10 tries');
}

test(
  'status page in Chromium: downloads appear, a refused file fails, Retry brings it back, quick-look is a picture',
  { timeout: scaled(90_000) },
  async (t) => {
    if (!existsSync(CHROMIUM)) {
      t.skip(`${CHROMIUM} not installed: run .ci/install-browser.sh (apt-get install chromium)`);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'radarlib-browser-'));
    const open: { demo?: DemoHandle; browser?: Browser } = {};
    t.after(async () => {
      await open.browser?.close();
      await open.demo?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const demo = await startDemo({
      radars: 2,
      cadence: 2,
      http: '127.0.0.1:0',
      dir,
      refreshMs: 300,
      pollInterval: 0.5,
      daemonConfig: {
        // NOPE has no folder: ftp-srv answers its LIST with 451 (not a "missing" 450/501/550), a
        // folder error of this source shown on the page, while the other radars go on.
        radars: ['RMA1', 'RMA2', 'NOPE'],
        maxAttempts: 2,
        backoff: { initialDelay: 0.2, maxDelay: 0.5, multiplier: 2, jitter: 0 },
      },
      network: { growMs: 300 },
    });
    open.demo = demo;
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    open.browser = browser;
    // bypassCSP: the page's strict CSP (nonce-only scripts) also forbids the evaluated predicates
    // the test itself injects; the page's own scripts run the same either way.
    const page = await browser.newPage({ viewport: { width: 1440, height: 1100 }, bypassCSP: true });
    page.setDefaultTimeout(WAIT);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(demo.status.url);

    // 1. Downloaded files appear, with size and throughput.
    await page.waitForSelector('#downloads tbody tr');
    const firstRow = await page.locator('#downloads tbody tr').first().innerText();
    assert.match(firstRow, /RMA\d_0315_01_(DBZH|VRAD|ZDR)_\d{8}T\d{6}Z\.BUFR/);
    assert.match(firstRow, /KiB\/s|MiB\/s/);
    await page.waitForSelector('section.source .chip.done b');

    // 1b. The folder the server refuses is shown with the server's reply, in the page and the JSON.
    const folderError = await page
      .locator('section.source .folder-errors [data-folder="/L2/NOPE"]')
      .innerText();
    assert.match(folderError, /^\/L2\/NOPE: .*451/);
    const json = (await (await fetch(new URL('api/status', demo.status.url))).json()) as StatusSnapshot;
    assert.deepEqual(
      json.sources[0]?.lastPoll?.folderErrors.map((f) => f.path),
      ['/L2/NOPE'],
    );

    // 2. The server refuses every ZDR file from now on: one of them ends up parked as failed.
    demo.ftp.setRefuse((p) => p.includes('_ZDR_'));
    const failedRow = page.locator('#failures tr[data-state="failed"][data-path*="_ZDR_"]').first();
    await failedRow.waitFor();
    const failedPath = (await failedRow.getAttribute('data-path')) as string;
    assert.match(failedPath, /_ZDR_/);
    assert.match(await failedRow.innerText(), /550|RADARLIB_FTP_REPLY/);
    if (process.env['RADARLIB_SCREENSHOT'] !== undefined) {
      await page.waitForFunction(`${LOADED_IMAGES} >= 2`);
      await page.screenshot({ path: process.env['RADARLIB_SCREENSHOT'], fullPage: true });
    }

    // 2b. Refreshes keep each row's button node (failures arriving above a row do not hand its
    // button to another row): a button swapped between press and release would lose the click.
    // Every parked row's button is marked with its path; once a new row is on top, every marked
    // row still shown must hold its own marked button.
    const parked = `[...document.querySelectorAll('#failures tbody tr[data-state="failed"]')]`;
    await page.evaluate(
      `window.radarlibMarked = ${parked}.map((r) => (r.querySelector('button.retry').radarlibMark = r.dataset.path))`,
    );
    await page.waitForFunction(
      `!window.radarlibMarked.includes(document.querySelector('#failures tbody tr')?.dataset.path)
        && ${parked}.some((r) => window.radarlibMarked.includes(r.dataset.path))`,
      undefined,
      { timeout: WAIT },
    );
    const swapped = await page.evaluate(
      `${parked}.filter((r) => window.radarlibMarked.includes(r.dataset.path)
        && r.querySelector('button.retry').radarlibMark !== r.dataset.path).map((r) => r.dataset.path)`,
    );
    assert.deepEqual(swapped, [], 'rows whose Retry button was replaced or swapped by a refresh');

    // 3. The server accepts again; Retry re-queues the parked files and they are downloaded. The
    // page refreshes every 300 ms, and a press that lasts across a refresh must count as a click
    // (a user's press often does).
    demo.ftp.setRefuse(undefined);
    // Parked rows can leave the table as the demo runs (2b waited): take one parked now.
    const retryPath = (await failedRow.getAttribute('data-path')) as string;
    await pressAcrossRefresh(page, page.locator(`#failures tr[data-path="${retryPath}"] button.retry`));
    await page.locator(`#failures tr[data-path="${retryPath}"]`).waitFor({ state: 'detached' });
    const ledger = demo.daemon.ledger;
    assert.ok(ledger !== null);
    await until(`${retryPath} downloaded after the retry`, async () => {
      const rows = await ledger.recent({ states: ['downloaded', 'processed'], limit: 200 });
      return rows.find((r) => r.remotePath === retryPath);
    });

    // 4. The quick-look is a real picture: the browser shows it, and its pixels show the echo ring.
    await page.waitForFunction(`${LOADED_IMAGES} >= 1`);
    const src = (await page
      .locator('img.quicklook[src*="field=DBZH"]')
      .first()
      .getAttribute('src')) as string;
    assert.match(src, /field=DBZH/);
    const res = await fetch(new URL(src, demo.status.url));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    const img = decodePng(Buffer.from(await res.arrayBuffer()));
    const volumeName = res.headers.get('x-radarlib-volume') as string;
    const decoded = demo.decoded.find((d) => basename(d.localPath) === volumeName);
    assert.ok(decoded !== undefined, `${volumeName} was decoded by the demo`);
    const sweep = lowestSweep(await readRadarVolume(decoded.localPath));
    const layout = ppiLayout(480, sweepRangeKm(sweep));
    assert.equal(img.width, layout.width);
    const zones = syntheticRingKm(sweep);
    const ring = annulusDataFraction(img, layout, REFLECTIVITY_SCALE, ...zones.ring);
    const inner = annulusDataFraction(img, layout, REFLECTIVITY_SCALE, ...zones.inner);
    assert.ok(ring.fraction > 0.4, `only ${(ring.fraction * 100).toFixed(1)} % of the echo ring is coloured`);
    assert.ok(inner.fraction < ring.fraction / 4, `inner ${inner.fraction} vs ring ${ring.fraction}`);

    // The page never shows the FTP password.
    const html = await page.content();
    assert.ok(!html.includes(demo.ftp.password));
    assert.deepEqual(pageErrors, []);
  },
);
