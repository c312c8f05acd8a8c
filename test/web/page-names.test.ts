/**
 * Hostile names on the status page, in a real browser (Debian's Chromium, playwright-core): a
 * remote name with a bidi override and control characters is shown with visible escapes, so
 * `invoice\u202eFUBR.exe` cannot read as another name; markup in a name stays text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startStatusServer } from '../../src/web/index.js';
import { hasRawControl } from '../helpers/hostile-names.js';
import { addRow, webRig } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';

test(
  'the page shows bidi and control characters in remote names as visible escapes',
  { timeout: 60_000 },
  async (t) => {
    if (!existsSync(CHROMIUM)) {
      t.skip(`${CHROMIUM} not installed: run .ci/install-browser.sh (apt-get install chromium)`);
      return;
    }
    const { daemon, ledger } = webRig(t);
    const hostile = 'RMA1_\u202eRFUB.exe\u001b[31m<img src=x onerror=alert(1)>.BUFR';
    await addRow(ledger, 'alpha', `/L2/${hostile}`, { fail: 'RADARLIB_FTP_REPLY: 550 no' });
    const status = await startStatusServer({ daemon, bind: '127.0.0.1:0', refreshMs: 300 });
    t.after(() => status.close());
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    t.after(() => browser.close());
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(status.url);
    const cell = page.locator('#failures td', { hasText: 'RFUB' }).first();
    await cell.waitFor({ timeout: 20_000 });
    const text = await cell.innerText();
    const title = (await cell.getAttribute('title')) ?? '';
    assert.equal(text, 'RMA1_\\u202eRFUB.exe\\u001b[31m<img src=x onerror=alert(1)>.BUFR');
    assert.ok(!hasRawControl(text + title), 'no raw bidi or control character shown');
    assert.equal(await page.locator('#failures img').count(), 0, 'markup in a name stays text');
    assert.deepEqual(dialogs, []);
  },
);
