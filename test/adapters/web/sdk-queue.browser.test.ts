import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kyselyOf } from '../../../src/adapters/storage/testing.js';
import { CollectorProxy } from './collector-proxy.js';
import { CHROMIUM_ARGS, eventually, findChromium, liveApp, seedArticles, type LiveApp } from './helpers.js';

// The SDK's outbound queue end to end: a real Chromium reads the demo site through a proxy
// (collector-proxy.ts) that stops listening for 10 s, or answers the collector with 503 and 429,
// in front of the real app and its database. Every event the pages made must be stored exactly
// once. The queue's pure logic is tested in sdk-queue.test.ts.

const CHROMIUM = findChromium();
if (!CHROMIUM && process.env.READNEXT_REQUIRE_BROWSER)
  throw new Error('READNEXT_REQUIRE_BROWSER is set (CI) but no chromium binary was found');
if (!CHROMIUM) console.warn('sdk-queue.browser.test.ts skipped: no chromium binary (see findChromium in helpers.ts)');

const OUTAGE_MS = 10_000; // 10 s

let live: LiveApp;
let proxy: CollectorProxy;
const dirs: string[] = [];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  if (!CHROMIUM) return;
  live = await liveApp();
  const now = Date.now();
  await seedArticles(
    live.app,
    Array.from({ length: 10 }, (_, i) => ({
      id: `q${i + 1}`,
      title: `Queue story ${i + 1}`,
      section: ['world', 'sport'][i % 2],
      lead: `Lead ${i + 1}.`,
      body: Array.from({ length: 14 }, (_, p) => `Paragraph ${p + 1}. ${'The harbour plans were discussed again. '.repeat(6)}`).join(
        '\n\n',
      ),
      publishedAt: new Date(now - (i + 1) * 15 * 60_000).toISOString(),
    })),
  );
  proxy = new CollectorProxy(Number(new URL(live.url).port));
  await proxy.start();
});

afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
  proxy.mode = { kind: 'up' };
});

afterAll(async () => {
  await proxy?.stop();
  await live?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A browser profile (its tabs share localStorage, as a site's tabs do) that reports, through a
 * binding, the id of every event the SDK queued: each is written to the queue's localStorage record
 * when it is made, so these are all the events the pages produced.
 */
async function reader(): Promise<{ context: BrowserContext; produced: Set<string>; failedPosts: () => number }> {
  const dir = mkdtempSync(join(tmpdir(), 'readnext-chromium-'));
  dirs.push(dir);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM!,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 720 },
  });
  contexts.push(context);
  const produced = new Set<string>();
  await context.exposeBinding('__rnProduced', (_source, ids: string[]) => {
    for (const id of ids) produced.add(id);
  });
  await context.addInitScript(() => {
    const set = Storage.prototype.setItem;
    Storage.prototype.setItem = function (this: Storage, k: string, v: string) {
      if (String(k).startsWith('readnext_q_')) {
        try {
          const ids = (JSON.parse(v) as { e: { eventId: string }[] }).e.map((e) => e.eventId);
          void (window as unknown as { __rnProduced(ids: string[]): Promise<void> }).__rnProduced(ids);
        } catch {
          // not ours to judge
        }
      }
      return set.call(this, k, v);
    };
  });
  let failed = 0;
  context.on('requestfailed', (r) => {
    if (new URL(r.url()).pathname === '/v1/events') failed++;
  });
  return { context, produced, failedPosts: () => failed };
}

/** How many rows the store holds per event id, for the given ids. */
async function storedCounts(ids: Iterable<string>): Promise<Map<string, number>> {
  const wanted = [...ids];
  const rows = await kyselyOf(live.services.storage)
    .selectFrom('events')
    .select(['event_id', sql<number>`count(*)`.as('n')])
    .where('event_id', 'in', wanted.length > 0 ? wanted : [''])
    .groupBy('event_id')
    .execute();
  return new Map(rows.map((r) => [r.event_id, Number(r.n)]));
}

/** Waits until every produced event is stored; then checks that each is stored exactly once. */
async function expectAllStoredOnce(produced: Set<string>, timeoutMs: number): Promise<void> {
  await eventually(
    'every produced event stored',
    async () => ((await storedCounts(produced)).size === produced.size ? true : undefined),
    timeoutMs,
  );
  const counts = await storedCounts(produced);
  expect([...produced].filter((id) => counts.get(id) !== 1)).toEqual([]);
}

const links = (page: Page) => page.locator('#read-next a.readnext-link');
const queueOf = (page: Page) => page.evaluate(() => (window as unknown as { readnext: { queue(): unknown } }).readnext.queue());

describe.skipIf(!CHROMIUM)('the SDK keeps unsent events while the collector is down', () => {
  it('server stopped for 10 s while two tabs browse: every event stored once after it returns', { timeout: 150_000 }, async () => {
    const { context, produced, failedPosts } = await reader();
    const a = context.pages()[0] ?? (await context.newPage());
    const b = await context.newPage();

    // 1. Both tabs load while the server is up; their page views are stored.
    await a.goto(`${proxy.url}/articles/q2`);
    await b.goto(`${proxy.url}/`);
    await links(a).first().waitFor({ state: 'visible', timeout: 10_000 });
    await expectAllStoredOnce(produced, 20_000);
    const before = produced.size;

    // 2. The server stops: its listener is closed and its connections dropped.
    await proxy.stop();
    const stoppedAt = Date.now();

    // 3. Tab A scrolls the widget into view (an impression) and clicks a recommendation: the
    //    navigation fails, and leaving the article queues its read and the click.
    await a.locator('#read-next').scrollIntoViewIfNeeded();
    await a.waitForTimeout(1500);
    const clicked = await links(a).nth(1).getAttribute('href');
    await links(a).nth(1).click({ noWaitAfter: true });
    // 4. Tab B keeps producing events (a single-page site's page views): more than a batch.
    for (let i = 0; i < 25; i++) {
      await b.evaluate(
        (n) => (window as unknown as { readnext: { pageView(o: { page: string }): void } }).readnext.pageView({ page: `/live/${n}` }),
        i,
      );
    }
    await b.waitForTimeout(Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt)));
    expect(produced.size - before).toBeGreaterThanOrEqual(28); // impression, read, click, 25 page views
    expect((await queueOf(b)) as { pending: number }).toMatchObject({ pending: expect.any(Number) });
    expect(((await queueOf(b)) as { pending: number }).pending).toBeGreaterThanOrEqual(25);

    // 5. The server comes back on the same port, same database. The reader retries the link in tab A
    //    (the new page takes over the queue the failed page left); tab B resends on its backoff.
    await proxy.start();
    await a.goto(`${proxy.url}${clicked}`);
    await expectAllStoredOnce(produced, 45_000);

    // 6. Both tabs retried while it was down, and each tab's queue emptied.
    expect(failedPosts()).toBeGreaterThanOrEqual(2);
    await eventually('empty queues', async () => {
      const qs = (await Promise.all([queueOf(a), queueOf(b)])) as { pending: number; dropped: number }[];
      return qs.every((q) => q.pending === 0 && q.dropped === 0) ? true : undefined;
    });
    const left = await b.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('readnext_q_')));
    expect(left).toEqual([]);
    console.info(
      `outage: ${produced.size} events produced (${produced.size - before} during the ${OUTAGE_MS / 1000} s stop), ` +
        `${(await storedCounts(produced)).size} stored once each, ${failedPosts()} posts failed while stopped`,
    );
  });

  it('503 then 429: retried with the same ids, never before Retry-After, stored once', { timeout: 150_000 }, async () => {
    const { context, produced } = await reader();
    const page = context.pages()[0] ?? (await context.newPage());
    const firstPost = proxy.posts.length;

    // 1. The collector answers 503 (Retry-After 2 s) while the reader browses: an article, a click
    //    on a recommendation (a navigation), a few page views.
    proxy.mode = { kind: 'status', status: 503, retryAfterS: 2 };
    await page.goto(`${proxy.url}/articles/q4`);
    await links(page).first().waitFor({ state: 'visible', timeout: 10_000 });
    await page.locator('#read-next').scrollIntoViewIfNeeded();
    await page.waitForTimeout(1500);
    await Promise.all([page.waitForURL(/\/articles\/q/), links(page).first().click()]);
    await page.waitForTimeout(4000);

    // 2. Then 429 (Retry-After 3 s), with more events.
    proxy.mode = { kind: 'status', status: 429, retryAfterS: 3 };
    await page.evaluate(() => {
      const rn = (window as unknown as { readnext: { pageView(o: { page: string }): void } }).readnext;
      for (let i = 0; i < 5; i++) rn.pageView({ page: `/busy/${i}` });
    });
    await page.waitForTimeout(7000);

    // 3. Back to normal: everything is stored once.
    proxy.mode = { kind: 'up' };
    await expectAllStoredOnce(produced, 45_000);

    const posts = proxy.posts.slice(firstPost);
    const refused = posts.filter((p) => p.status === 503 || p.status === 429);
    expect(refused.filter((p) => p.status === 503).length).toBeGreaterThanOrEqual(1);
    expect(refused.filter((p) => p.status === 429).length).toBeGreaterThanOrEqual(1);
    // Same ids on every retry: each event refused was posted again, byte for byte the same event.
    for (const p of refused) {
      for (const [id, json] of p.events) {
        const later = posts.filter((q) => q.at > p.at && q.events.has(id));
        expect(later.length, `event ${id} refused at ${p.at} was never posted again`).toBeGreaterThan(0);
        for (const q of later) expect(q.events.get(id)).toBe(json);
      }
    }
    // Nothing new went before the Retry-After of the last refusal had passed (1 ms timer slack).
    for (const p of refused) {
      const next = posts[posts.indexOf(p) + 1];
      if (next) expect(next.at - p.answeredAt!).toBeGreaterThanOrEqual((p.status === 429 ? 3000 : 2000) - 1);
    }
    // Every event posted was produced by the page (none made up), and none is left queued.
    const posted = new Set(posts.flatMap((p) => [...p.events.keys()]));
    expect([...posted].filter((id) => !produced.has(id))).toEqual([]);
    await eventually('an empty queue', async () => (((await queueOf(page)) as { pending: number }).pending === 0 ? true : undefined));
    console.info(
      `503/429: ${produced.size} events produced and stored once each; ${posts.length} posts, ` +
        `${refused.length} refused (${refused.filter((p) => p.status === 429).length} with 429)`,
    );
  });
  const noStorage: [string, () => void][] = [
    [
      'blocked: reading window.localStorage throws',
      () =>
        Object.defineProperty(window, 'localStorage', {
          get() {
            throw new DOMException('blocked', 'SecurityError');
          },
        }),
    ],
    [
      'full: every write is over quota',
      () => {
        Storage.prototype.setItem = () => {
          throw new DOMException('full', 'QuotaExceededError');
        };
      },
    ],
  ];
  it.each(noStorage)(
    'without localStorage (%s) the queue lives in memory, retries, never throws',
    { timeout: 60_000 },
    async (_name, block) => {
      const { context } = await reader();
      await context.addInitScript(block);
      const page = context.pages()[0] ?? (await context.newPage());
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // Chromium logs each refused request itself ("Failed to load resource"); anything else is ours.
      page.on('console', (m) =>
        m.type() === 'error' && !m.text().startsWith('Failed to load resource') ? errors.push(m.text()) : undefined,
      );
      const first = proxy.posts.length;

      proxy.mode = { kind: 'status', status: 503, retryAfterS: 1 };
      await page.goto(`${proxy.url}/articles/q6`);
      await page.evaluate(() => {
        const rn = (window as unknown as { readnext: { pageView(o: { page: string }): void } }).readnext;
        for (let i = 0; i < 5; i++) rn.pageView({ page: `/memory/${i}` });
      });
      await eventually('a refused post', async () => (proxy.posts.slice(first).some((p) => p.status === 503) ? true : undefined));
      expect(((await queueOf(page)) as { pending: number }).pending).toBeGreaterThanOrEqual(6);
      proxy.mode = { kind: 'up' };

      await eventually(
        'an empty queue',
        async () => (((await queueOf(page)) as { pending: number }).pending === 0 ? true : undefined),
        20_000,
      );
      const posted = new Set(proxy.posts.slice(first).flatMap((p) => [...p.events.keys()]));
      expect(posted.size).toBeGreaterThanOrEqual(6); // the page view of q6 and five more
      await expectAllStoredOnce(posted, 10_000);
      expect(errors).toEqual([]);
    },
  );
  it('a tab that left the site while the collector was down: another tab of the site sends its events', { timeout: 120_000 }, async () => {
    const { context, produced } = await reader();
    const a = context.pages()[0] ?? (await context.newPage());
    const b = await context.newPage();
    proxy.mode = { kind: 'unreachable' };
    await a.goto(`${proxy.url}/articles/q7`);
    await b.goto(`${proxy.url}/`);
    await a.evaluate(() => {
      const rn = (window as unknown as { readnext: { pageView(o: { page: string }): void } }).readnext;
      for (let i = 0; i < 3; i++) rn.pageView({ page: `/left/${i}` });
    });
    const keyOfA = await a.evaluate(() =>
      Object.keys(localStorage).find((k) => k.startsWith('readnext_q_') && localStorage.getItem(k)!.includes('/left/0')),
    );
    expect(keyOfA).toBeDefined();
    // Tab A leaves the site: pagehide marks its record gone (its beacon cannot get through).
    await a.goto('about:blank');
    proxy.mode = { kind: 'up' };
    // Tab B, on its next attempt, takes the record over and sends it with its own events. That attempt
    // waits out the tabs' backoff, which grows while page loads are slow (a loaded machine: up to
    // 30 s a wait), so the bound is generous: what is checked is that every event arrives once.
    await expectAllStoredOnce(produced, 90_000);
    expect(await b.evaluate((k) => localStorage.getItem(k), keyOfA!)).toBeNull();
  });

  it('the queue is bounded: past 1000 events the oldest are dropped and counted', { timeout: 60_000 }, async () => {
    const { context } = await reader();
    const page = context.pages()[0] ?? (await context.newPage());
    proxy.mode = { kind: 'unreachable' };
    await page.goto(`${proxy.url}/`);
    const ms = await page.evaluate(() => {
      const rn = (window as unknown as { readnext: { pageView(o: { page: string }): void } }).readnext;
      const t0 = performance.now();
      for (let i = 0; i < 1010; i++) rn.pageView({ page: `/many/${i}` });
      return performance.now() - t0;
    });
    console.info(`1010 events queued in ${Math.round(ms)} ms (each write mirrors the whole queue to localStorage)`);
    expect(await queueOf(page)).toEqual({ pending: 1000, dropped: 11 }); // the home page view and the first 10
    const stored = await page.evaluate(() => {
      const k = Object.keys(localStorage).find((x) => x.startsWith('readnext_q_'))!;
      const v = localStorage.getItem(k)!;
      const e = (JSON.parse(v) as { e: { page: string }[] }).e;
      return { chars: v.length, n: e.length, first: e[0]!.page, last: e[e.length - 1]!.page };
    });
    expect(stored).toMatchObject({ n: 1000, first: '/many/10', last: '/many/1009' });
    expect(stored.chars).toBeLessThan(500_000);
  });
});
