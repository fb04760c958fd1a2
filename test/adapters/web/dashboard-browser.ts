import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildDashboard } from '../../../scripts/build.mjs';
import { admin, ADMIN_KEY } from '../../helpers/app.js';
import { CHROMIUM_ARGS, findChromium, liveApp, type LiveApp } from './helpers.js';

// What the dashboard's browser tests (test/adapters/web/*.browser.test.ts) share: finding Chromium
// or skipping, a persistent headless context with a folder of screenshots (test artefacts, printed
// at the end), the watch on console errors, failed requests and error answers, signing in with the
// admin key, and the phone-width check that no page scrolls sideways. The axe check is ./a11y.ts.
// dashboardSuite puts them together for a test file: the built dashboard, the live app, Chromium.

/**
 * The Chromium to drive `file`'s tests, or undefined when this machine has none: the file then
 * skips (`describe.skipIf(!CHROMIUM)`) with a warning, unless READNEXT_REQUIRE_BROWSER (CI) is set.
 */
export function chromiumFor(file: string): string | undefined {
  const found = findChromium();
  if (!found && process.env.READNEXT_REQUIRE_BROWSER)
    throw new Error('READNEXT_REQUIRE_BROWSER is set (CI) but no chromium binary was found');
  if (!found) console.warn(`${file} skipped: no chromium binary (see test/adapters/web/helpers.ts findChromium)`);
  return found;
}

export interface DashboardBrowser {
  context: BrowserContext;
  /** The folder of screenshots, kept after the run. */
  shots: string;
  /** The page the persistent context opened with (a new one if it has none). */
  firstPage(): Promise<Page>;
  /** A full-page screenshot `<name>.png` in `shots`. */
  shot(page: Page, name: string): Promise<Buffer>;
  /** Closes the context, removes its profile and prints where the screenshots are. */
  close(): Promise<void>;
}

/** A desktop-sized (1280×800) headless Chromium with a fresh profile, its folders named after `name`. */
export async function launchDashboardBrowser(executablePath: string, name: string): Promise<DashboardBrowser> {
  const profile = mkdtempSync(join(tmpdir(), `readnext-${name}-chromium-`));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const shots = mkdtempSync(join(tmpdir(), `readnext-${name}-shots-`));
  return {
    context,
    shots,
    firstPage: async () => context.pages()[0] ?? (await context.newPage()),
    shot: (page, file) => page.screenshot({ path: join(shots, `${file}.png`), fullPage: true }),
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
      console.log(`${name} screenshots: ${shots}`);
    },
  };
}

export interface PageWatch {
  /** Problems matching `re` are expected: a step that provokes an error answer says so first. */
  expect(re: RegExp): void;
  /** The problems no expectation explains. */
  unexpected(): string[];
}

/**
 * Collects the page's console errors, page errors, failed requests and error answers (`answer: 401
 * GET /path`). Chromium also logs every 4xx answer as a console error ("Failed to load resource: …
 * status of 401"); those whose status matches `quietConsoleStatus` (a regex source) are left to
 * their `answer:` line, which an expectation must explain.
 */
export function watch(page: Page, quietConsoleStatus = '401'): PageWatch {
  const problems: string[] = [];
  const expected: RegExp[] = [];
  const quiet = new RegExp(`^console: Failed to load resource: .* status of (${quietConsoleStatus})`);
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`answer: ${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  return {
    expect: (re) => void expected.push(re),
    unexpected: () => problems.filter((p) => !expected.some((re) => re.test(p)) && !quiet.test(p)),
  };
}

/** The unauthenticated start: the dashboard asks for its session and is answered 401. */
export const SESSION_401 = /^answer: 401 GET \/v1\/dashboard\/session$/;

/**
 * Opens `${url}/dashboard/${route}` (route e.g. '#/catalog'), signs in with the admin key and waits
 * for the navigation of the signed-in dashboard.
 */
export async function signIn(page: Page, url: string, route = ''): Promise<void> {
  await page.goto(`${url}/dashboard/${route}`);
  await page.getByLabel('Admin key').fill(ADMIN_KEY);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Dashboard pages' }).waitFor();
}

/** A phone's viewport: the width every page must fit without scrolling sideways. */
export const PHONE = { width: 390, height: 844 } as const;

/** Waits `settleMs` for the layout, then expects the page no wider than its viewport (`what` names it in a failure). */
export async function expectNoSideScroll(page: Page, what?: string, settleMs = 300): Promise<void> {
  await page.waitForTimeout(settleMs);
  const width = page.viewportSize()?.width ?? PHONE.width;
  // A string, evaluated in the page: this file is type-checked as Node code, without DOM types.
  expect(await page.evaluate<number>('document.documentElement.scrollWidth'), what).toBeLessThanOrEqual(width);
}

/**
 * `count` articles "Story 1" … with ids `<idPrefix>1` …, the sections taken in turn from `sections`,
 * published 10, 20, … minutes before `now` (newest first): a catalog for seedArticles (./helpers.ts).
 */
export function storyArticles(count: number, idPrefix: string, sections: readonly string[] = ['sport', 'world'], now = Date.now()) {
  return Array.from({ length: count }, (_, i) => ({
    id: `${idPrefix}${i + 1}`,
    title: `Story ${i + 1}`,
    section: sections[i % sections.length]!,
    publishedAt: new Date(now - (i + 1) * 600_000).toISOString(),
  }));
}

/** What a test file does to the live app before Chromium starts: seeding, deployments, experiments. */
type Seed = (live: LiveApp) => Promise<void>;

export interface DashboardSuite {
  /** The Chromium binary, or undefined when the file skips: `describe.skipIf(!suite.chromium)`. */
  readonly chromium: string | undefined;
  /** The live app (./helpers.ts liveApp), set before the suite's seed runs. */
  readonly live: LiveApp;
  /** Chromium, launched once the seed is done. */
  readonly browser: DashboardBrowser;
  /**
   * The browser's first page, watched (with the unauthenticated start's 401 expected; `quietConsoleStatus`
   * as for watch) and signed in from `route`.
   */
  signedIn(route?: string, quietConsoleStatus?: string): Promise<{ page: Page; w: PageWatch }>;
}

/**
 * The setup of a dashboard browser test file (`file`, its name before ".browser.test.ts" naming the
 * temporary folders): beforeAll builds the dashboard from the sources as they are now (whatever
 * dist/ holds), starts the live app, runs `seed` on it and launches Chromium, within `timeoutMs`
 * (60 s unless given);
 * afterAll closes Chromium and the app. Without a Chromium nothing starts and the file skips.
 */
export function dashboardSuite(file: string, seed?: Seed): DashboardSuite;
export function dashboardSuite(file: string, timeoutMs: number, seed: Seed): DashboardSuite;
export function dashboardSuite(file: string, a?: number | Seed, b?: Seed): DashboardSuite {
  const [timeoutMs, seed] = typeof a === 'number' ? [a, b] : [60_000, a];
  const found = chromiumFor(file);
  let live: LiveApp | undefined;
  let browser: DashboardBrowser | undefined;
  const suite: DashboardSuite = {
    chromium: found,
    get live() {
      if (!live) throw new Error(`${file}: the live app is not started (no chromium, or its beforeAll failed)`);
      return live;
    },
    get browser() {
      if (!browser) throw new Error(`${file}: chromium is not launched (none found, or its beforeAll failed)`);
      return browser;
    },
    async signedIn(route = '', quietConsoleStatus = '401') {
      const page = await suite.browser.firstPage();
      const w = watch(page, quietConsoleStatus);
      w.expect(SESSION_401);
      await signIn(page, suite.live.url, route);
      return { page, w };
    },
  };
  beforeAll(async () => {
    if (!found) return;
    await buildDashboard();
    live = await liveApp();
    await seed?.(live);
    browser = await launchDashboardBrowser(found, file.replace(/\.browser\.test\.ts$/, ''));
  }, timeoutMs);
  afterAll(async () => {
    await browser?.close();
    await live?.close();
  });
  return suite;
}

/** An arm of startedExperiment: its name and recommender kind@1 (the arms split the traffic evenly). */
type Arm = readonly [name: string, kind: string];

/**
 * Creates and starts an A/B experiment on `placement` over the admin API, then has `readers` readers
 * (r0 …, sessions `<sessionPrefix>0` …) ask for recommendations on `article`, so that its report has
 * exposures.
 */
export async function startedExperiment(
  app: FastifyInstance,
  e: { id: string; placement: string; arms: readonly Arm[] },
  exposures: { article: string; readers: number; sessionPrefix: string },
): Promise<void> {
  const arms = e.arms.map(([name, kind]) => ({ name, recommender: { kind, version: '1' }, weight: 1 / e.arms.length }));
  const created = await app.inject({
    method: 'POST',
    url: '/v1/admin/experiments',
    headers: admin,
    payload: { id: e.id, placement: e.placement, arms },
  });
  expect(created.statusCode, created.body).toBe(201);
  expect((await app.inject({ method: 'POST', url: `/v1/admin/experiments/${e.id}/start`, headers: admin })).statusCode).toBe(200);
  const { article, readers, sessionPrefix } = exposures;
  for (let i = 0; i < readers; i++)
    await app.inject({
      method: 'GET',
      url: `/v1/recommendations?placement=${e.placement}&article=${article}&reader=r${i}&session=${sessionPrefix}${i}`,
    });
}
