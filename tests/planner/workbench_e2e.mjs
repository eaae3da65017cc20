// The planner's workbench in headless Debian chromium (playwright-core, no browser download): make a draft, move a
// block, lasso, merge, split, undo, compare, see the impact, publish, locate; screenshots at each stage and a 420 px
// layout. Usage: node workbench_e2e.mjs '<json plan>'; prints a JSON report, exits non-zero on failure.
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'web', 'package.json'));
const { chromium } = require('playwright-core');

const plan = JSON.parse(process.argv[2]);
const report = { steps: [], console: [], text: {} };
const shot = (name) => path.join(plan.screenshots, `${name}.png`);
const context = await chromium.launchPersistentContext(mkdtempSync(path.join(tmpdir(), 'geogrid-chromium-')), {
  executablePath: plan.chromium || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--enable-unsafe-swiftshader', '--use-angle=swiftshader'],
});
const page = context.pages()[0] || (await context.newPage());
page.on('console', (m) => report.console.push(`${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => report.console.push(`pageerror: ${e.message}`));

const text = async (sel) => (await page.locator(sel).innerText()).trim();
async function idle() {
  await page.waitForFunction(() => window.geogridMap?.loaded() && window.geogridMap.areTilesLoaded(), null, { timeout: 45000 });
  await page.waitForTimeout(250);
}
async function at(lon, lat, m = 'geogridMap') {
  const box = await page.locator(m === 'geogridMap' ? '#map canvas' : '#map-b canvas').boundingBox();
  const p = await page.evaluate(([x, y, name]) => window[name].project([x, y]), [lon, lat, m]);
  return [box.x + p.x, box.y + p.y];
}
async function click(lon, lat) {
  const [x, y] = await at(lon, lat);
  await page.mouse.click(x, y);
}
const until = (fn, arg) => page.waitForFunction(fn, arg, { timeout: 45000 });
async function edited(op) {
  await until((o) => document.body.dataset.lastOp === o, op);
  await idle();
}

let failed = null;
try {
  await page.goto(`${plan.base}/map/?collection=${encodeURIComponent(`plan.${plan.published}`)}`, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
  await page.click('#key-box summary');
  await page.fill('#api-key', plan.key);
  await page.click('#api-key-save');
  await idle();
  report.text.metrics = await text('#metrics');
  report.steps.push('loaded');

  // a draft
  await page.click('#tabs button[data-tab="edit"]');
  await page.fill('#copy-name', plan.draft);
  await page.click('#copy-form button[type="submit"]');
  await until((d) => document.body.dataset.collection === `plan.${d}` && document.body.dataset.grids, plan.draft);
  await idle();
  report.text.checksAtCopy = await text('#checks');
  report.steps.push('copied');

  // move a block by click
  await click(...plan.block);
  await until(() => document.body.dataset.selected === '1');
  await page.selectOption('#target', plan.target);
  await page.click('#assign');
  await edited('move');
  report.text.afterMove = await text('#edit-message');
  report.text.checksAfterMove = await text('#checks');
  await page.screenshot({ path: shot('1-move') });
  report.steps.push('moved');

  // lasso two blocks, then clear
  await page.click('[data-tool="lasso"]');
  const corners = [];
  for (const c of plan.lasso) corners.push(await at(...c));
  await page.mouse.move(...corners[0]);
  await page.mouse.down();
  for (const c of [...corners.slice(1), corners[0]]) await page.mouse.move(...c, { steps: 5 });
  await page.mouse.up();
  await until((n) => Number(document.body.dataset.selected) >= n, plan.lassoBlocks);
  report.text.lasso = await text('#selection');
  await page.screenshot({ path: shot('2-lasso') });
  await page.click('#sketch-clear');
  report.steps.push('lassoed');

  // merge two grids
  await page.click('[data-tool="merge"]');
  for (const p of plan.merge) await click(...p);
  report.text.mergePick = await text('#selection');
  await page.click('#merge-go');
  await edited('merge');
  report.text.afterMerge = await text('#edit-message');
  report.steps.push('merged');

  // split one along a drawn line
  await page.click('[data-tool="split"]');
  for (const p of plan.split) await click(...p);
  await page.click('#split-go');
  await edited('split');
  report.text.afterSplit = await text('#edit-message');
  report.gridsAfterSplit = await page.evaluate(() => document.body.dataset.grids);
  await page.screenshot({ path: shot('3-split') });
  report.steps.push('split');

  // undo the split
  await page.click('#undo');
  await edited('undo');
  report.gridsAfterUndo = await page.evaluate(() => document.body.dataset.grids);
  report.text.journal = await text('#edit-log');
  report.text.checksAfterUndo = await text('#checks');
  report.steps.push('undone');

  // recode is refused (the codes are in order already); then set a grid's tier
  await page.click('#recode-go');
  await until(() => document.body.dataset.refused);
  report.text.recodeRefused = await text('#edit-message');
  await page.selectOption('#target', plan.target);
  await page.selectOption('#set-tier', 'B');
  await page.click('#set-go');
  await edited('set');
  report.text.afterSet = await text('#checks');
  report.steps.push('set');

  // compare the draft with the published plan, side by side then with a swipe
  await page.click('#tabs button[data-tab="compare"]');
  await page.selectOption('#cmp-a', `plan.${plan.published}`);
  await page.selectOption('#cmp-b', `plan.${plan.draft}`);
  await page.click('#cmp-go');
  await until(() => document.body.dataset.compared);
  await idle();
  await page.waitForFunction(() => window.geogridMapB?.loaded() && window.geogridMapB.areTilesLoaded(), null, { timeout: 30000 });
  report.text.compare = await text('#cmp-summary');
  report.text.lineage = await text('#lineage');
  await page.screenshot({ path: shot('4-compare') });
  await page.check('input[name="cmp-mode"][value="swipe"]');
  await page.waitForTimeout(500);
  await page.screenshot({ path: shot('5-swipe') });
  report.steps.push('compared');

  // impact, then publish with a note
  await page.click('#tabs button[data-tab="publish"]');
  await page.click('#impact-go');
  await until(() => document.body.dataset.impact !== undefined);
  report.text.impact = await text('#impact');
  await page.fill('#publish-note', plan.note);
  await page.click('#publish-go');
  await until((d) => document.body.dataset.published === d, plan.draft);
  await until((n) => document.querySelector('#history').innerText.includes(n), plan.note);
  report.text.published = await text('#publish-result');
  report.text.history = await text('#history');
  await page.screenshot({ path: shot('6-publish') });
  report.steps.push('published');

  // locate: the grid panel follows the located point
  await page.click('#tabs button[data-tab="browse"]');
  await click(...plan.otherGrid);
  await until((c) => document.querySelector('#grid-info').innerText.includes(c), plan.otherCode);
  await page.fill('#locate-lon', String(plan.locate[0]));
  await page.fill('#locate-lat', String(plan.locate[1]));
  await page.selectOption('#locate-crs', 'gcj02');
  await page.click('#locate-form button[type="submit"]');
  await until((c) => document.querySelector('#grid-info').innerText.includes(c), plan.locateCode);
  report.text.gridAfterLocate = await text('#grid-info');
  report.steps.push('located');

  // a phone-sized window: the map on top, the panel below, both visible
  await page.setViewportSize({ width: 420, height: 800 });
  await page.waitForTimeout(400);
  await idle();
  report.narrow = {
    map: await page.locator('#map').boundingBox(),
    panel: await page.locator('#panel').boundingBox(),
    scrollWidth: await page.evaluate(() => document.documentElement.scrollWidth),
  };
  await page.screenshot({ path: shot('7-narrow') });
  await page.click('#tabs button[data-tab="edit"]');
  await page.screenshot({ path: shot('8-narrow-edit') });
  report.steps.push('narrow');
} catch (err) {
  failed = err;
  report.error = String(err && err.stack ? err.stack : err);
  try { await page.screenshot({ path: shot('failed') }); } catch { /* ignore */ }
} finally {
  await context.close();
}
process.stdout.write(JSON.stringify(report));
process.exit(failed ? 1 : 0);
