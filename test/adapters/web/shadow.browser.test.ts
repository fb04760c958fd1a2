import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadingEvent } from '../../../src/core/events/schema.js';
import { admin } from '../../helpers/app.js';
import { CHROMIUM_ARGS, eventually, findChromium, liveApp, seedArticles, storedEvents, type LiveApp } from './helpers.js';

// End to end: a shadow recommender runs on the reader's real request from the demo site, its slate
// is stored as a shadow `serve` record, and the browser only ever renders the live slate.

const CHROMIUM = findChromium();
if (!CHROMIUM && process.env.READNEXT_REQUIRE_BROWSER)
  throw new Error('READNEXT_REQUIRE_BROWSER is set (CI) but no chromium binary was found');
if (!CHROMIUM)
  console.warn(
    'shadow.browser.test.ts skipped: no chromium binary (looked for /usr/bin/chromium, then chromium, chromium-browser, google-chrome on the PATH)',
  );

type Impression = Extract<ReadingEvent, { type: 'impression' }>;
interface Serve {
  recommId: string;
  shadow: boolean;
  readerId: string | null;
  articleId: string | null;
  recommenderKind: string;
  recommenderVersion: string;
  slate: { articleId: string; position: number }[];
}

const SECTIONS = ['world', 'sport', 'culture'];
const BODY = Array.from(
  { length: 14 },
  (_, i) => `Paragraph ${i + 1}. ${'The council met again on Tuesday to discuss the harbour plans. '.repeat(4)}`,
).join('\n\n');
// Live: the latest articles of the current article's section (then the default fallbacks).
// Shadow: the latest of all sections. On a culture article the two slates differ.
const LIVE = { kind: 'latest', version: 'section', params: { sameSection: true } };
const SHADOW = { kind: 'latest', version: 'global' };

let live: LiveApp;
let dir: string | undefined;
let context: BrowserContext | undefined;

beforeAll(async () => {
  if (!CHROMIUM) return;
  live = await liveApp();
  const now = Date.now();
  await seedArticles(
    live.app,
    Array.from({ length: 12 }, (_, i) => ({
      id: `b${i + 1}`,
      title: `Story ${i + 1}`,
      section: SECTIONS[i % SECTIONS.length],
      lead: `Lead of story ${i + 1}.`,
      body: BODY,
      publishedAt: new Date(now - (i + 1) * 20 * 60_000).toISOString(),
    })),
  );
  for (const [path, recommender] of [
    ['live', LIVE],
    ['shadows', SHADOW],
  ] as const) {
    const res = await live.app.inject({
      method: 'POST',
      url: `/v1/admin/deployments/read-next/${path}`,
      headers: admin,
      payload: { recommender },
    });
    if (res.statusCode !== 200) throw new Error(`POST ${path}: ${res.statusCode} ${res.body}`);
  }
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await live?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!CHROMIUM)('a shadow recommender in Chromium', () => {
  it('the widget renders the live slate, never the shadow one, while the shadow record is stored', { timeout: 60_000 }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'readnext-chromium-'));
    context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM!,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 720 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const log: string[] = [];
    page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));

    // 1. A culture article (b3): the widget renders a slate, every link naming its recommId.
    await page.goto(`${live.url}/articles/b3`);
    const links = page.locator('#read-next a.readnext-link');
    await links.first().waitFor({ state: 'visible', timeout: 10_000 });
    const rendered = await links.evaluateAll((as) =>
      as.map((a) => ({ articleId: a.getAttribute('data-article-id')!, recommId: a.getAttribute('data-recomm-id')! })),
    );
    const recommId = rendered[0]!.recommId;
    expect(rendered.every((r) => r.recommId === recommId)).toBe(true);

    // 2. Both records of that recommId are stored: the live one and, after the response, the shadow one.
    const serves = await eventually('the live and the shadow serve records', async () => {
      const res = await live.app.inject({ method: 'GET', url: `/v1/admin/serves?recommId=${recommId}`, headers: admin });
      const items = res.json().items as Serve[];
      return items.length >= 2 ? items : undefined;
    });
    expect(serves).toHaveLength(2);
    const liveServe = serves.find((s) => !s.shadow)!;
    const shadowServe = serves.find((s) => s.shadow)!;
    expect(liveServe).toMatchObject({ recommenderKind: 'latest', recommenderVersion: 'section', articleId: 'b3' });
    expect(shadowServe).toMatchObject({
      recommenderKind: 'latest',
      recommenderVersion: 'global',
      articleId: 'b3',
      readerId: liveServe.readerId,
    });
    const readerId = await page.evaluate(() => localStorage.getItem('readnext_reader'));
    expect(liveServe.readerId).toBe(readerId);

    // 3. The two slates differ, and the page shows exactly the live one: no shadow-only item anywhere on it.
    const liveIds = liveServe.slate.map((s) => s.articleId);
    const shadowIds = shadowServe.slate.map((s) => s.articleId);
    const shadowOnly = shadowIds.filter((id) => !liveIds.includes(id));
    expect(shadowIds).not.toEqual(liveIds);
    expect(shadowOnly.length).toBeGreaterThan(0);
    expect(rendered.map((r) => r.articleId)).toEqual(liveIds);
    for (const id of shadowOnly) expect(await page.locator(`a[href="/articles/${id}"]`).count(), id).toBe(0);

    // 4. What the reader saw, as the SDK reports it: the impression lists the live slate, not the shadow's.
    await page.locator('#read-next').scrollIntoViewIfNeeded();
    const impression = await eventually('the impression', async () => {
      await page.evaluate(() => (window as unknown as { readnext: { flush(): void } }).readnext.flush());
      return (await storedEvents(live.services)).find((e): e is Impression => e.type === 'impression' && e.recommId === recommId);
    });
    expect(impression.shadow).toBe(false);
    expect(impression.items.map((i) => i.articleId)).toEqual(liveIds);
    expect(log).toEqual([]);
  });
});
