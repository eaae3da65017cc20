// Drive the web map in headless Debian chromium through playwright-core (no Playwright browser download).
// Usage: node browser_e2e.mjs '<json plan>' ; prints a JSON report on stdout, exits non-zero on failure.
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'web', 'package.json'));
const { chromium } = require('playwright-core');

const plan = JSON.parse(process.argv[2]);
const report = { steps: [], console: [] };
const userDataDir = mkdtempSync(path.join(tmpdir(), 'geogrid-chromium-'));

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: plan.chromium || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--enable-unsafe-swiftshader', '--use-angle=swiftshader',
  ],
});
const page = context.pages()[0] || (await context.newPage());
page.on('console', (m) => report.console.push(`${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => report.console.push(`pageerror: ${e.message}`));

async function mapIdle() {
  await page.waitForFunction(() => window.geogridMap && window.geogridMap.loaded() && window.geogridMap.areTilesLoaded(), null, { timeout: 30000 });
}

async function clickLonLat(lon, lat) {
  const box = await page.locator('#map canvas').boundingBox();
  const p = await page.evaluate(([x, y]) => window.geogridMap.project([x, y]), [lon, lat]);
  await page.mouse.click(box.x + p.x, box.y + p.y);
}

let failed = null;
try {
  await page.goto(`${plan.base}/map/`, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
  await mapIdle();
  report.steps.push('loaded');
  report.collection = await page.evaluate(() => document.body.dataset.collection);
  report.metrics = await page.locator('#metrics').innerText();

  await clickLonLat(plan.click.lon, plan.click.lat);
  await page.waitForFunction((code) => document.querySelector('#grid-info').innerText.includes(code), plan.click.code, { timeout: 15000 });
  report.gridInfo = await page.locator('#grid-info').innerText();
  report.steps.push('clicked');

  await page.fill('#locate-lon', String(plan.locate.lon));
  await page.fill('#locate-lat', String(plan.locate.lat));
  await page.selectOption('#locate-crs', plan.locate.crs);
  await page.click('#locate-form button[type="submit"]');
  await page.waitForFunction(() => document.querySelector('#locate-result').innerText.trim().length > 0, null, { timeout: 15000 });
  await page.waitForTimeout(300);
  report.locateResult = await page.locator('#locate-result').innerText();
  report.steps.push('located');
  await mapIdle();
  await page.screenshot({ path: plan.screenshot });
  report.steps.push('screenshot');

  if (plan.switchTo) {
    await page.selectOption('#collection', plan.switchTo);
    await mapIdle();
    report.metricsAfterSwitch = await page.locator('#metrics').innerText();
    report.steps.push('switched');
  }
} catch (err) {
  failed = err;
  report.error = String(err && err.stack ? err.stack : err);
  try { await page.screenshot({ path: plan.screenshot.replace(/\.png$/, '-failed.png') }); } catch { /* ignore */ }
} finally {
  await context.close();
}
process.stdout.write(JSON.stringify(report));
process.exit(failed ? 1 : 0);
