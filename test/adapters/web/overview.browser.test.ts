import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../../scripts/build.mjs';
import { ADMIN_KEY, INGEST_KEY } from '../../helpers/app.js';
import { click, impression, pageView, read, subscribe } from '../../helpers/events.js';
import { CHROMIUM_ARGS, findChromium, liveApp, type LiveApp } from './helpers.js';

// The dashboard's Overview (pages/overview.tsx) in a real headless Chromium against the real app:
// after signing in it is the first page; it shows the KPIs of GET /v1/admin/kpis for a few posted
// events (totals counted by hand below), four uPlot charts, the table per day, and what serves
// read-next. Screenshots at 1280 px and 390 px are kept in a temporary folder printed at the end.

const CHROMIUM = findChromium();
if (!CHROMIUM && process.env.READNEXT_REQUIRE_BROWSER)
  throw new Error('READNEXT_REQUIRE_BROWSER is set (CI) but no chromium binary was found');
if (!CHROMIUM) console.warn('overview.browser.test.ts skipped: no chromium binary (see test/adapters/web/helpers.ts findChromium)');

let live: LiveApp;
let context: BrowserContext;
const profile = mkdtempSync(join(tmpdir(), 'readnext-overview-chromium-'));
const shots = mkdtempSync(join(tmpdir(), 'readnext-overview-shots-'));

beforeAll(async () => {
  if (!CHROMIUM) return;
  await buildDashboard();
  live = await liveApp();
  const now = Date.now();
  const early = now - 23 * 3_600_000; // within the collector's 24 h; often the day before
  const late = now - 60_000;
  const post = async (events: unknown[], headers: Record<string, string> = {}) => {
    const res = await live.app.inject({ method: 'POST', url: '/v1/events', headers, payload: { events } });
    expect(res.json()).toMatchObject({ accepted: events.length, rejected: 0 });
  };
  // 3 page views, 3 reads by 2 readers of 3 seen, 2 live impressions of read-next with 1 click.
  await post([
    pageView(early, { readerId: 'r1' }),
    pageView(early, { readerId: 'r2' }),
    read(early, { readerId: 'r1' }),
    impression(early, { readerId: 'r1', recommId: 'rc-a' }),
    click(early + 1000, { readerId: 'r1', recommId: 'rc-a' }),
    pageView(late, { readerId: 'r3' }),
    read(late, { readerId: 'r3' }),
    read(late + 1000, { readerId: 'r3', articleId: 'a3' }),
    impression(late, { readerId: 'r3', recommId: 'rc-b' }),
  ]);
  // Revenue: 9.99 EUR, and 5 USD without a rate (apart, flagged).
  await post([subscribe(late, { readerId: 'r3' }), subscribe(late, { readerId: 'r2', revenue: 5, currency: 'USD' })], {
    'x-readnext-ingest-key': INGEST_KEY,
  });
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
  });
}, 60_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await live?.close();
  rmSync(profile, { recursive: true, force: true });
  if (CHROMIUM) console.log(`overview screenshots: ${shots}`);
});

describe.skipIf(!CHROMIUM)('the Overview in Chromium', () => {
  it('is the first page after signing in, with the KPIs, the charts and what serves each placement', { timeout: 60_000 }, async () => {
    const page = context.pages()[0] ?? (await context.newPage());
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`failed: ${r.url()}`));
    page.on('response', (r) => {
      const path = new URL(r.url()).pathname;
      if (r.status() >= 400 && !(r.status() === 401 && path === '/v1/dashboard/session')) problems.push(`answer: ${r.status()} ${path}`);
    });

    await page.goto(`${live.url}/dashboard/`);
    await page.getByLabel('Admin key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    expect(await page.getByRole('link', { name: 'Overview' }).getAttribute('aria-current')).toBe('page');

    const totals = page.getByRole('list', { name: 'Totals of the window' });
    await expect.poll(() => page.getByTestId('total-page-views').textContent()).toBe('3');
    const text = await totals.textContent();
    expect(text).toContain('3 reads');
    expect(text).toContain('50.00% CTR of read-next'); // 1 click / 2 live impressions
    expect(text).toContain('9.99 EUR revenue (2 subscriptions)');
    expect(await page.locator('.warning').textContent()).toContain('USD: 1 events');
    expect(await page.locator('.ov-charts canvas').count()).toBe(4);
    // The table: one row per UTC day of the last 14 (15 when the window starts mid-day), the sums as above.
    const rows = page.locator('table[aria-labelledby="ov-table"] tbody tr');
    expect(await rows.count()).toBeGreaterThanOrEqual(14);
    const pageViews = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.querySelectorAll('td')[0]!.textContent)));
    expect(pageViews.reduce((a, b) => a + b, 0)).toBe(3);
    const serving = page.getByRole('region', { name: /read-next/ });
    await expect.poll(() => serving.getByTestId('live').textContent()).toBe('co-read@1');
    await page.screenshot({ path: join(shots, 'overview-1280.png'), fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(shots, 'overview-390.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
