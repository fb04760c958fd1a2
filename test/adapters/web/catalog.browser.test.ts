import { describe, expect, it } from 'vitest';
import { admin } from '../../helpers/app.js';
import { dashboardSuite, PHONE } from './dashboard-browser.js';
import { seedArticles } from './helpers.js';

// The dashboard's Catalog page (issue 20, page 8) in a real headless Chromium against the real app:
// search the articles by title, choose one, and see the live and shadow slates side by side (GET
// /v1/admin/preview), the live one equal to what /v1/recommendations serves; nothing is recorded.
// Screenshots are kept in a temporary folder printed at the end (test artefacts).

const TITLES = [
  ['h1', 'Harbour bridge reopens after repairs', 'world'],
  ['w2', 'Elections called for the spring', 'world'],
  ['w3', 'Drought hits the wheat harvest', 'world'],
  ['w4', 'Ferry strike ends', 'world'],
  ['s1', 'Cup final goes to extra time', 'sport'],
  ['s2', 'Marathon record falls', 'sport'],
  ['c1', 'A new opera for the harbour town', 'culture'],
  ['c2', 'Museum opens late on Fridays', 'culture'],
] as const;

const suite = dashboardSuite('catalog.browser.test.ts', async (live) => {
  const now = Date.now();
  await seedArticles(
    live.app,
    TITLES.map(([id, title, section], i) => ({ id, title, section, publishedAt: new Date(now - (i + 1) * 600_000).toISOString() })),
  );
  // read-next: co-read live (with its fallbacks), and a shadow that takes the newest of every section.
  const shadow = await live.app.inject({
    method: 'POST',
    url: '/v1/admin/deployments/read-next/shadows',
    headers: admin,
    payload: { recommender: { kind: 'latest', version: 'everything' }, reason: 'shadow for the catalog test' },
  });
  expect(shadow.statusCode, shadow.body).toBe(200);
});

const serveCount = async () =>
  (await suite.live.app.inject({ method: 'GET', url: '/v1/admin/serves?limit=1000', headers: admin })).json().items.length as number;

describe.skipIf(!suite.chromium)('the Catalog page in Chromium', () => {
  it('finds an article by title and shows the live and shadow slates side by side', { timeout: 90_000 }, async () => {
    const { live, browser } = suite;
    const servesBefore = await serveCount();
    const { page, w } = await suite.signedIn('#/catalog');
    await page.getByRole('heading', { level: 1, name: 'Catalog' }).waitFor();
    const table = page.getByRole('table');
    await expect.poll(() => table.getByRole('row').count()).toBe(TITLES.length + 1);

    // Search: case-insensitive, title only (c1's title holds "harbour" too; its section does not matter).
    await page.getByLabel('Title contains').fill('HARBOUR');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => table.getByRole('row').count()).toBe(3);
    await page.getByText('Articles 1–2 of 2 with “HARBOUR” in the title').waitFor();
    await page.getByLabel('Section').fill('world');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => table.getByRole('row').count()).toBe(2);
    await browser.shot(page, '1-catalog-search');

    // Choose it: the live and shadow slates side by side.
    await page.getByRole('link', { name: 'Harbour bridge reopens after repairs' }).click();
    await page.getByRole('heading', { level: 2, name: 'Harbour bridge reopens after repairs' }).waitFor();
    const liveSlate = page.getByRole('region', { name: /^Live: co-read@1$/ });
    const shadowSlate = page.getByRole('region', { name: /^Shadow: latest@everything$/ });
    await liveSlate.getByRole('listitem').first().waitFor();
    await shadowSlate.getByRole('listitem').first().waitFor();
    const titles = async (region: typeof liveSlate) => (await region.getByRole('link').allTextContents()).map((s) => s.trim());

    // The live slate is what /v1/recommendations serves an anonymous reader on the same request.
    const served = await live.app.inject({ method: 'GET', url: '/v1/recommendations?placement=read-next&article=h1' });
    const servedTitles = (served.json().items as { title: string }[]).map((i) => i.title);
    expect(servedTitles.length).toBeGreaterThan(0);
    expect(await titles(liveSlate)).toEqual(servedTitles);
    // The shadow alone: the newest of every section but the current article.
    expect(await titles(shadowSlate)).toEqual(TITLES.slice(1, 6).map(([, t]) => t));
    // Side by side at 1280 px: the two cards share a row.
    const [a, b] = [await liveSlate.boundingBox(), await shadowSlate.boundingBox()];
    expect(a!.y).toBe(b!.y);
    expect(b!.x).toBeGreaterThan(a!.x);
    await browser.shot(page, '2-catalog-slates');

    // With a reader id: still answered, and the preview recorded nothing (the one served request above did).
    await page.getByLabel('Reader id (optional)').fill('catalog-reader');
    await page.getByRole('button', { name: 'Show slates' }).click();
    await page.getByText(/for reader catalog-reader/).waitFor();
    expect(await serveCount()).toBe(servesBefore + 2); // live + shadow records of the /v1/recommendations call

    // Phone width: still readable (the cards stack).
    await page.setViewportSize(PHONE);
    await browser.shot(page, '3-catalog-phone');
    const [a2, b2] = [await liveSlate.boundingBox(), await shadowSlate.boundingBox()];
    expect(b2!.y).toBeGreaterThan(a2!.y);
    expect(w.unexpected()).toEqual([]);
  });
});
