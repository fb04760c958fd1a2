import { describe, expect, it } from 'vitest';
import { admin } from '../../helpers/app.js';
import { dashboardSuite, expectNoSideScroll, PHONE, storyArticles } from './dashboard-browser.js';
import { seedArticles } from './helpers.js';

// The dashboard's Data page (GET /v1/admin/data/report) and Shadow and off-policy page
// (GET /v1/admin/shadow-report, GET /v1/admin/ope) in a real headless Chromium against the real app.
// The app is seeded through its public API: read-next explores half its slates and runs popular@1
// in shadow; READERS requests are answered and their impressions, some clicks and reads, and one
// invalid event are ingested. Screenshots are kept in a temporary folder printed at the end.

const READERS = 300;
/** Every CLICK_EVERY-th request's reader clicks its first item, then reads it. */
const CLICK_EVERY = 4;

let stored = 0;

async function call(method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) {
  const res = await suite.live.app.inject({ method, url, headers: admin, ...(payload ? { payload } : {}) });
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
  return res.json() as Record<string, unknown>;
}

const suite = dashboardSuite('dashboard-data.browser.test.ts', 120_000, async (live) => {
  await seedArticles(live.app, storyArticles(16, 'd', ['sport', 'world', 'culture']));
  // Exploration on half the slates (the propensities OPE needs), and a shadow.
  const { revision: _r, experiments: _e, ...config } = await call('GET', '/v1/admin/deployments/read-next');
  await call('PUT', '/v1/admin/deployments/read-next', { ...config, exploration: { share: 0.5, pool: 8 } });
  await call('POST', '/v1/admin/deployments/read-next/shadows', { recommender: { kind: 'popular', version: '1' } });

  const events: Record<string, unknown>[] = [];
  const at = (ms: number) => new Date(ms).toISOString();
  for (let i = 0; i < READERS; i++) {
    const article = `d${(i % 16) + 1}`;
    const common = { readerId: `r${i}`, sessionId: `s${i}` };
    const res = await live.app.inject({
      url: `/v1/recommendations?placement=read-next&article=${article}&reader=r${i}&session=s${i}&k=4`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { recommId: string; items: { articleId: string }[] };
    const t = Date.now();
    events.push({ type: 'page_view', eventId: `pv-${i}`, ...common, timestamp: at(t - 2000), articleId: article });
    events.push({
      type: 'impression',
      eventId: `im-${i}`,
      ...common,
      timestamp: at(t),
      recommId: body.recommId,
      placement: 'read-next',
      articleId: article,
      items: body.items.map((it, p) => ({ articleId: it.articleId, position: p + 1 })),
    });
    if (i % CLICK_EVERY === 0 && body.items[0]) {
      const clicked = body.items[0].articleId;
      events.push({
        type: 'click',
        eventId: `cl-${i}`,
        ...common,
        timestamp: at(t + 1000),
        recommId: body.recommId,
        articleId: clicked,
        position: 1,
      });
      events.push({
        type: 'read',
        eventId: `rd-${i}`,
        ...common,
        timestamp: at(t + 2000),
        articleId: clicked,
        dwellMs: 40_000,
        scroll: 0.9,
      });
    }
  }
  events.push({
    type: 'read',
    eventId: 'bad-1',
    readerId: 'r0',
    sessionId: 's0',
    timestamp: at(Date.now()),
    articleId: 'd1',
    dwellMs: -1,
    scroll: 0.5,
  });
  for (let i = 0; i < events.length; i += 500) {
    const res = await live.app.inject({ method: 'POST', url: '/v1/events', payload: { events: events.slice(i, i + 500) } });
    expect(res.statusCode, res.body).toBeLessThan(300);
    stored += (res.json() as { accepted: number }).accepted;
  }
  expect(stored).toBe(events.length - 1);
});

describe.skipIf(!suite.chromium)('the Data and Shadow pages in Chromium', () => {
  it('shows the data report and the shadow and off-policy figures of the seeded app', { timeout: 120_000 }, async () => {
    const { live, browser } = suite;
    const { page, w } = await suite.signedIn('', '401|409'); // on whichever page comes first

    // 1. Data: the report of the default window (the last 14 UTC days, today included).
    await page.getByRole('link', { name: 'Data' }).click();
    await page.getByRole('heading', { level: 1, name: 'Data' }).waitFor();
    await page.getByRole('heading', { name: 'Quality' }).waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('events').textContent()).toBe(stored.toLocaleString('en-GB'));
    const quality = await page.locator('dl.quality').textContent();
    expect(quality).toContain(`impression ${READERS}`);
    expect(quality).toMatch(/Rejected1 \(invalid_field 1\)/);
    const today = new Date().toISOString().slice(0, 10);
    const todayRow = page.locator('table.days tbody tr').filter({ hasText: today });
    expect(await todayRow.textContent()).toContain(`(${READERS})`); // the impressions of read-next today
    expect(await page.getByRole('columnheader', { name: 'CTR read-next' }).count()).toBe(1);
    await page.getByRole('heading', { name: /^(Alerts|\d+ alerts?)$/ }).waitFor();
    await page.getByRole('heading', { name: 'Feature drift' }).waitFor();
    await page.getByRole('heading', { name: 'Signal' }).waitFor();
    await browser.shot(page, '1-data');

    // A window without events: the report says so, with no impression.
    await page.getByLabel('Since (UTC day)').fill('2026-01-01');
    await page.getByLabel('Until (UTC day, excluded)').fill('2026-01-03');
    await page.getByRole('button', { name: 'Show the report' }).click();
    await expect
      .poll(
        () =>
          page
            .getByTestId('events')
            .textContent()
            .catch(() => null),
        { timeout: 30_000 },
      )
      .toBe('0');
    expect(await page.locator('table.days tbody tr').count()).toBe(2);

    // 2. Shadow and off-policy: popular@1 against co-read@1 on the same requests.
    await page.getByRole('link', { name: 'Shadow and off-policy' }).click();
    await page.getByRole('heading', { level: 1, name: 'Shadow and off-policy' }).waitFor();
    const overlap = page.locator('table.overlap tbody tr').filter({ hasText: 'popular@1' });
    await overlap.waitFor({ timeout: 20_000 });
    const cells = await overlap.locator('td').allTextContents();
    expect(Number(cells[0]!.replace(/,/g, ''))).toBe(READERS); // pairs: every request had both slates
    const sides = await page.locator('table.sides tbody tr').allTextContents();
    expect(sides.some((s) => s.startsWith('co-read@1live300'))).toBe(true);
    expect(sides.some((s) => s.startsWith('popular@1shadow300'))).toBe(true);

    // The live recommender as candidate: every estimator's row, with the live value beside them.
    await page.getByLabel('Candidate').selectOption('co-read@1');
    await page.getByRole('button', { name: 'Estimate' }).click();
    await page.locator('table.ope').waitFor({ timeout: 30_000 });
    const rows = await page
      .locator('table.ope tbody tr[data-estimator]')
      .evaluateAll((rs) => rs.map((r) => r.getAttribute('data-estimator')));
    expect(rows).toEqual(['replay', 'ips', 'snips', 'pbm', 'dr']);
    expect(await page.locator('table.ope tr.live-row').textContent()).toContain('Live co-read@1 (measured)');
    expect(await page.locator('table.ope tr[data-estimator="dr"]').textContent()).toMatch(/refused \(missing_reward\)/);
    expect(await page.locator('table.ope svg.interval').count()).toBeGreaterThanOrEqual(2);
    await browser.shot(page, '2-shadow-ope');

    // The shadow as candidate: popular@1 never picks from co-read's exploration pool (0% support),
    // so the API refuses with 409; the page shows that refusal as its message, not as an error.
    w.expect(/^answer: 409 GET \/v1\/admin\/ope$/);
    await page.getByLabel('Candidate').selectOption('popular@1');
    await page.getByRole('button', { name: 'Estimate' }).click();
    const refused = page.getByTestId('ope-refused');
    await refused.waitFor({ timeout: 30_000 });
    expect(await refused.textContent()).toMatch(/^No estimate: no estimator could evaluate popular@1 on 300 logged slates .*low_support/);
    expect(await page.locator('table.ope').count()).toBe(0);
    expect(await page.getByRole('alert').count()).toBe(0);
    await browser.shot(page, '3-shadow-ope-popular');

    // 3. Readable at phone width.
    await page.setViewportSize(PHONE);
    for (const p of ['data', 'shadow']) {
      await page.goto(`${live.url}/dashboard/#/${p}`);
      await page.locator('main h2').first().waitFor({ timeout: 60_000 });
      await expectNoSideScroll(page, p);
      await browser.shot(page, `4-${p}-390px`);
    }
    expect(w.unexpected()).toEqual([]);
  });
});
