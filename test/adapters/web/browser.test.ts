import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ReadingEvent } from '../../../src/core/events/schema.js';
import { CHROMIUM_ARGS, eventually, findChromium, liveApp, seedArticles, storedEvents, type LiveApp } from './helpers.js';

// End to end: the demo site and the SDK in a real headless Chromium, against the real app
// (collector, recommendations, SQLite in memory) on the system clock.

const CHROMIUM = findChromium();
if (!CHROMIUM && process.env.READNEXT_REQUIRE_BROWSER)
  throw new Error('READNEXT_REQUIRE_BROWSER is set (CI) but no chromium binary was found');
if (!CHROMIUM)
  console.warn(
    'browser.test.ts skipped: no chromium binary (looked for /usr/bin/chromium, then chromium, chromium-browser, google-chrome on the PATH)',
  );

type Impression = Extract<ReadingEvent, { type: 'impression' }>;
type Click = Extract<ReadingEvent, { type: 'click' }>;
type Read = Extract<ReadingEvent, { type: 'read' }>;

const SECTIONS = ['world', 'sport', 'culture'];
/** Long enough that the read-next widget starts below the fold of a 1280x720 window. */
const BODY = Array.from(
  { length: 14 },
  (_, i) => `Paragraph ${i + 1}. ${'The council met again on Tuesday to discuss the harbour plans. '.repeat(4)}`,
).join('\n\n');

let live: LiveApp;
const dirs: string[] = [];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  if (!CHROMIUM) return;
  live = await liveApp();
  const now = Date.now();
  await seedArticles(
    live.app,
    Array.from({ length: 12 }, (_, i) => ({
      id: `b${i + 1}`,
      title: `Story ${i + 1}: the harbour <plans> & more`,
      section: SECTIONS[i % SECTIONS.length],
      lead: `Lead of story ${i + 1}.`,
      body: BODY,
      author: 'Ada Reporter',
      tags: ['harbour', `t${i % 4}`],
      publishedAt: new Date(now - (i + 1) * 20 * 60_000).toISOString(), // every 20 minutes over the last 4 hours
    })),
  );
});

afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
});

afterAll(async () => {
  await live?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function newPage(): Promise<{ page: Page; console: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'readnext-chromium-'));
  dirs.push(dir);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM!,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 720 },
  });
  contexts.push(context);
  const page = context.pages()[0] ?? (await context.newPage());
  const log: string[] = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  return { page, console: log };
}

/** The content type of every request to /v1/events the page makes, beacons included (Chromium does not report beacon bodies). */
function capturePosts(page: Page): string[] {
  const posts: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/v1/events') posts.push(r.headers()['content-type'] ?? '');
  });
  return posts;
}

/** Sends whatever the SDK has queued, then waits for it to be stored. */
async function flushed(page: Page): Promise<void> {
  await page.evaluate(() => (window as unknown as { readnext: { flush(): void } }).readnext.flush());
  await page.waitForTimeout(300);
}

const widgetLinks = (page: Page) => page.locator('#read-next a.readnext-link');

/** The rendered slate: what the reader saw, as the SDK's data attributes say. */
async function renderedSlate(page: Page) {
  await widgetLinks(page).first().waitFor({ state: 'visible', timeout: 10_000 });
  return widgetLinks(page).evaluateAll((as) =>
    as.map((a) => ({
      articleId: a.getAttribute('data-article-id')!,
      position: Number(a.getAttribute('data-position')),
      recommId: a.getAttribute('data-recomm-id')!,
      href: a.getAttribute('href')!,
      title: a.textContent!,
    })),
  );
}

describe.skipIf(!CHROMIUM)('demo site and SDK in Chromium', () => {
  it('a reader sees recommendations; the impression, click, page views and reads are stored and agree', { timeout: 60_000 }, async () => {
    const { page, console: log } = await newPage();
    const posts = capturePosts(page);
    const before = new Set((await storedEvents(live.services)).map((e) => e.eventId));
    const fresh = async () => (await storedEvents(live.services)).filter((e) => !before.has(e.eventId));

    // 1. Open an article: the widget renders a slate of other articles linked with the link template.
    await page.goto(`${live.url}/articles/b3`);
    const slate = await renderedSlate(page);
    expect(slate.length, log.join('\n')).toBeGreaterThan(1);
    const recommId = slate[0]!.recommId;
    expect(slate.every((s) => s.recommId === recommId)).toBe(true);
    expect(slate.map((s) => s.position)).toEqual(slate.map((_, i) => i + 1));
    expect(slate.map((s) => s.articleId)).not.toContain('b3');
    for (const s of slate) {
      expect(s.href).toBe(`/articles/${s.articleId}`);
      expect(s.title).toMatch(/^Story \d+: the harbour <plans> & more$/); // rendered as text, not markup
    }
    expect(await page.locator('#read-next h2').textContent()).toBe('Read next');

    // 2. Below the fold, no impression even after more than a second; nor when in view for only half a second.
    expect(await page.locator('#read-next').evaluate((el) => el.getBoundingClientRect().top > window.innerHeight)).toBe(true);
    await page.waitForTimeout(1200);
    await flushed(page);
    expect((await fresh()).filter((e) => e.type === 'impression')).toEqual([]);
    await page.locator('#read-next').scrollIntoViewIfNeeded();
    await page.waitForTimeout(500);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(1200);
    await flushed(page);
    expect((await fresh()).filter((e) => e.type === 'impression')).toEqual([]);

    // 3. Scrolled into view for more than a second: one impression.
    await page.locator('#read-next').scrollIntoViewIfNeeded();
    await page.waitForTimeout(1300);
    const impression = await eventually('the impression', async () =>
      (await fresh()).find((e): e is Impression => e.type === 'impression'),
    );

    // 4. Click the second recommendation: the browser navigates to that article, the click still arrives.
    const target = slate[1]!;
    await Promise.all([page.waitForURL(`${live.url}/articles/${target.articleId}`), widgetLinks(page).nth(1).click()]);
    await expect.poll(() => page.locator('h1').textContent()).toBe(target.title);
    const click = await eventually('the click', async () => (await fresh()).find((e): e is Click => e.type === 'click'));

    expect(impression).toMatchObject({
      recommId,
      placement: 'read-next',
      articleId: 'b3',
      shadow: false,
      items: slate.map((s) => ({ articleId: s.articleId, position: s.position, team: null })),
    });
    expect(impression.recommender).toMatchObject({ kind: expect.any(String), version: expect.any(String) });
    expect(click).toMatchObject({ recommId, placement: 'read-next', articleId: target.articleId });
    expect(click.position).toBe(impression.items.find((i) => i.articleId === click.articleId)!.position);
    expect(click.position).toBe(2);

    // 5. Leaving the first article sent its read (pagehide); both page views arrived; one reader, one session.
    const read = await eventually('the read of b3', async () =>
      (await fresh()).find((e): e is Read => e.type === 'read' && e.articleId === 'b3'),
    );
    expect(read.dwellMs).toBeGreaterThan(2500);
    expect(read.scroll).toBeGreaterThan(0.5);
    expect(read.recommId).toBeNull();
    const views = await eventually('two page views', async () => {
      const v = (await fresh()).filter((e) => e.type === 'page_view');
      return v.length >= 2 ? v : undefined;
    });
    expect(views.map((v) => v.type === 'page_view' && v.articleId)).toEqual(['b3', target.articleId]);
    const all = await fresh();
    const readerId = await page.evaluate(() => localStorage.getItem('readnext_reader'));
    expect(readerId).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(all.map((e) => e.readerId))).toEqual(new Set([readerId]));
    expect(new Set(all.map((e) => e.sessionId)).size).toBe(1);
    expect(new Set(all.map((e) => e.eventId)).size).toBe(all.length);
    // Event ids are UUIDv7: version 7, and their first 48 bits are the client time in milliseconds (within a few seconds of it).
    for (const e of all) {
      expect(e.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(Math.abs(parseInt(e.eventId.replace('-', '').slice(0, 12), 16) - e.clientTs)).toBeLessThan(5000);
    }

    // 6. Leaving the clicked article: its read names the recommendation that brought the reader there.
    await page.goto(`${live.url}/`);
    const read2 = await eventually('the read of the clicked article', async () =>
      (await fresh()).find((e): e is Read => e.type === 'read' && e.articleId === target.articleId),
    );
    expect(read2.recommId).toBe(recommId);
    expect(log.filter((l) => l.startsWith('pageerror') || l.startsWith('error'))).toEqual([]);

    // 7. Events went as text/plain posts (no CORS preflight), which the opt-out tests below rely on seeing.
    expect(posts.length).toBeGreaterThan(1);
    expect(posts.every((p) => p.startsWith('text/plain'))).toBe(true);
  });

  it('batches events: at most 20 a post, each post under 64 KB, none lost', { timeout: 60_000 }, async () => {
    const { page } = await newPage();
    const bodies: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/v1/events') bodies.push(r.postData() ?? '');
    });
    const posts = () =>
      bodies.map((b) => ({ bytes: Buffer.byteLength(b), events: (JSON.parse(b) as { events: { type: string }[] }).events }));
    await page.goto(`${live.url}/`);
    await eventually('the home page view', async () => (posts().length > 0 ? true : undefined));
    const before = (await storedEvents(live.services)).length;
    bodies.length = 0;

    // 45 small events: the first 20 leave at once, the next 20 when the first post is answered (one
    // post in flight at a time), the last 5 right after.
    await page.evaluate(() => {
      const rn = (window as unknown as { readnext: { pageView(o: { page: string }): void } }).readnext;
      for (let i = 0; i < 45; i++) rn.pageView({ page: `/small/${i}` });
    });
    await eventually('three posts', async () => (posts().length >= 3 ? true : undefined));
    expect(posts().map((b) => b.events.length)).toEqual([20, 20, 5]);

    // 20 large events (a 2 KB page and a 2 KB url: ~4 KB each, ~85 KB in all): split so that every post stays under the beacon limit.
    bodies.length = 0;
    await page.evaluate(() => {
      const w = window as unknown as { readnext: { pageView(o: { page: string }): void } };
      history.replaceState(null, '', `/?q=${'y'.repeat(2040)}`);
      for (let i = 0; i < 20; i++) w.readnext.pageView({ page: `/large/${i}/${'x'.repeat(2000)}` });
    });
    const large = await eventually('all 20 large events posted', async () =>
      posts().reduce((a, b) => a + b.events.length, 0) >= 20 ? posts() : undefined,
    );
    expect(large.length).toBeGreaterThanOrEqual(2);
    expect(large.map((b) => b.events.length).reduce((a, n) => a + n)).toBe(20);
    for (const b of large) expect(b.bytes).toBeLessThan(64 * 1024);
    expect(large.reduce((a, b) => a + b.bytes, 0)).toBeGreaterThan(64 * 1024);

    await eventually('65 more stored events', async () => ((await storedEvents(live.services)).length === before + 65 ? true : undefined));
    expect(await page.evaluate(() => (window as unknown as { readnext: { queue(): unknown } }).readnext.queue())).toEqual({
      pending: 0,
      dropped: 0,
    });
  });

  const optOuts: [string, () => void][] = [
    ['readnext_optout=1 in localStorage', () => localStorage.setItem('readnext_optout', '1')],
    ['Do Not Track', () => Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' })],
  ];
  it.each(optOuts)('an opted-out reader (%s) gets recommendations and sends nothing', { timeout: 60_000 }, async (_name, optOut) => {
    const { page, console: log } = await newPage();
    await page.addInitScript(optOut);
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const before = await storedEvents(live.services);

    await page.goto(`${live.url}/articles/b5`);
    const slate = await renderedSlate(page);
    expect(slate.length, log.join('\n')).toBeGreaterThan(1);
    await page.locator('#read-next').scrollIntoViewIfNeeded();
    await page.waitForTimeout(2000);
    await Promise.all([page.waitForURL(`${live.url}/articles/${slate[0]!.articleId}`), widgetLinks(page).first().click()]);
    await renderedSlate(page);
    await page.goto(`${live.url}/`); // pagehide: the moment reads and queued events would be sent
    await page.waitForTimeout(1500);

    const recs = requests.filter((u) => u.includes('/v1/recommendations')).map((u) => new URL(u).searchParams);
    expect(recs).toHaveLength(2);
    for (const p of recs) {
      expect(p.get('optout')).toBe('1');
      expect(p.has('reader')).toBe(false);
      expect(p.has('session')).toBe(false);
      expect(p.get('placement')).toBe('read-next');
    }
    expect(requests.filter((u) => u.includes('/v1/events'))).toEqual([]);
    expect((await storedEvents(live.services)).length).toBe(before.length);
    const stored = await page.evaluate(() => ({
      reader: localStorage.getItem('readnext_reader'),
      session: sessionStorage.getItem('readnext_session'),
      cookie: document.cookie,
    }));
    expect(stored).toEqual({ reader: null, session: null, cookie: '' });
  });
});
