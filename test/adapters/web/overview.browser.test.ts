import { describe, expect, it } from 'vitest';
import { INGEST_KEY } from '../../helpers/app.js';
import { click, impression, pageView, read, subscribe } from '../../helpers/events.js';
import { dashboardSuite, expectNoSideScroll, PHONE } from './dashboard-browser.js';

// The dashboard's Overview (pages/overview.tsx) in a real headless Chromium against the real app:
// after signing in it is the first page; it shows the KPIs of GET /v1/admin/kpis for a few posted
// events (totals counted by hand below), four uPlot charts, the table per day, and what serves
// read-next. Screenshots at 1280 px and 390 px are kept in a temporary folder printed at the end.

const suite = dashboardSuite('overview.browser.test.ts', async (live) => {
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
});

describe.skipIf(!suite.chromium)('the Overview in Chromium', () => {
  it('is the first page after signing in, with the KPIs, the charts and what serves each placement', { timeout: 60_000 }, async () => {
    const { browser } = suite;
    const { page, w } = await suite.signedIn();
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
    await browser.shot(page, 'overview-1280');

    await page.setViewportSize(PHONE);
    await expectNoSideScroll(page);
    await browser.shot(page, 'overview-390');
    expect(w.unexpected()).toEqual([]);
  });
});
