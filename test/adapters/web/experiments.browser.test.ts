import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../../scripts/build.mjs';
import { admin, ADMIN_KEY } from '../../helpers/app.js';
import { click, impression, pageView, read } from '../../helpers/events.js';
import { axeViolations } from './a11y.js';
import { CHROMIUM_ARGS, eventually, findChromium, liveApp, seedArticles, type LiveApp } from './helpers.js';

// The dashboard's Experiments page (issue 20) in a real headless Chromium against the real app:
// create an A/B experiment through the form (a server error shown inline, then the JSON confirm
// step), start it through its confirm step, drive readers through /v1/recommendations and /v1/events,
// and see the report's figures; an interleaving experiment's team preference with its sign test.
// axe-core finds no serious or critical violation; screenshots go to a temporary folder printed at the end.

const CHROMIUM = findChromium();
if (!CHROMIUM && process.env.READNEXT_REQUIRE_BROWSER)
  throw new Error('READNEXT_REQUIRE_BROWSER is set (CI) but no chromium binary was found');
if (!CHROMIUM) console.warn('experiments.browser.test.ts skipped: no chromium binary (see test/adapters/web/helpers.ts findChromium)');

let live: LiveApp;
let context: BrowserContext;
const profile = mkdtempSync(join(tmpdir(), 'readnext-experiments-chromium-'));
const shots = mkdtempSync(join(tmpdir(), 'readnext-experiments-shots-'));

interface Slate {
  recommId: string;
  arm?: string;
  items: { articleId: string; position: number; team?: string }[];
}

const inject = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
  const res = await live.app.inject({ method, url, headers: admin, ...(payload === undefined ? {} : { payload: payload as object }) });
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
  return JSON.parse(res.body) as unknown;
};

const slate = async (placement: string, reader: string): Promise<Slate> => {
  const res = await live.app.inject({
    method: 'GET',
    url: `/v1/recommendations?placement=${placement}&article=d1&k=4&reader=${reader}&session=${reader}-s`,
  });
  expect(res.statusCode, res.body).toBe(200);
  return JSON.parse(res.body) as Slate;
};

const postEvents = async (events: unknown[]) => {
  const res = await live.app.inject({ method: 'POST', url: '/v1/events', payload: { events } });
  const out = JSON.parse(res.body) as { accepted: number; results: { status: string }[] };
  expect(out.accepted, JSON.stringify(out.results.find((r) => r.status !== 'accepted'))).toBe(events.length);
};

beforeAll(async () => {
  if (!CHROMIUM) return;
  await buildDashboard();
  // A snapshot of the experiment's sums every second of data (instead of every hour): the report's
  // catch-ups while the test waits for its data take several, so the timeline has points to draw.
  live = await liveApp({ snapshotEveryMs: 1000 });
  const now = Date.now();
  await seedArticles(
    live.app,
    Array.from({ length: 8 }, (_, i) => ({
      id: `d${i + 1}`,
      title: `Story ${i + 1}`,
      section: i % 2 ? 'world' : 'sport',
      publishedAt: new Date(now - (i + 1) * 600_000).toISOString(),
    })),
  );
  // An interleaving experiment on its own placement: 12 readers, 10 click a "section" item, 2 a "global" one.
  await inject('PUT', '/v1/admin/deployments/il', { live: { kind: 'latest', version: '1' } });
  await inject('POST', '/v1/admin/experiments', {
    id: 'il-teams',
    placement: 'il',
    kind: 'interleaving',
    layer: 'il',
    arms: [
      { name: 'section', recommender: { kind: 'latest', version: 's', params: { sameSection: true } } },
      { name: 'global', recommender: { kind: 'latest', version: 'g' } },
    ],
  });
  await inject('POST', '/v1/admin/experiments/il-teams/start');
  const clicks = [];
  for (let i = 0; i < 12; i++) {
    const reader = `il-r${i}`;
    const s = await slate('il', reader);
    const pick = s.items.find((x) => x.team === (i < 10 ? 'section' : 'global'))!;
    clicks.push(
      click(Date.now(), {
        readerId: reader,
        sessionId: `${reader}-s`,
        recommId: s.recommId,
        placement: 'il',
        articleId: pick.articleId,
        position: pick.position,
      }),
    );
  }
  await postEvents(clicks);
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
  if (CHROMIUM) console.log(`experiments screenshots: ${shots}`);
});

/** Console errors, page errors, failed requests and error answers, less those a step expects. */
function watch(page: Page) {
  const problems: string[] = [];
  const expected: RegExp[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`answer: ${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  return {
    expect: (re: RegExp) => expected.push(re),
    /** Chromium logs every 4xx answer as a console error too; those of expected answers are left out with them. */
    unexpected: () =>
      problems.filter((p) => !expected.some((re) => re.test(p)) && !/^console: Failed to load resource: .* status of (401|400)/.test(p)),
  };
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

describe.skipIf(!CHROMIUM)('the Experiments page in Chromium', () => {
  it('creates and starts an experiment, shows its report with figures, and an interleaving preference', { timeout: 120_000 }, async () => {
    const page = context.pages()[0] ?? (await context.newPage());
    const w = watch(page);
    w.expect(/^answer: 401 GET \/v1\/dashboard\/session$/); // the unauthenticated start
    w.expect(/^answer: 400 POST \/v1\/admin\/experiments$/); // the refused coverage, step 2

    // 1. Sign in and open Experiments: only the interleaving experiment so far.
    await page.goto(`${live.url}/dashboard/#/experiments`);
    await page.getByLabel('Admin key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Experiments' }).waitFor();
    await page.getByRole('link', { name: 'il-teams' }).waitFor();

    // 2. The form: id, placement, arms (a third added and removed), a coverage the server refuses (400 naming the field).
    await page.getByRole('button', { name: 'New experiment…' }).click();
    await page.getByLabel('Id', { exact: true }).fill('ui-ab');
    await page.getByLabel('Placement').fill('read-next');
    await page.getByLabel('Arm 1 recommender').fill('co-read@1');
    await page.getByLabel('Arm 2 name').fill('latest');
    await page.getByLabel('Arm 2 recommender').fill('latest@1');
    await page.getByRole('button', { name: 'Add an arm' }).click();
    expect(await page.getByLabel('Arm 3 name').inputValue()).toBe('arm3');
    await page.getByRole('button', { name: 'Remove arm 3' }).click();
    expect(await page.getByLabel('Arm 3 name').count()).toBe(0);
    await page.getByLabel('Arm 1 weight').fill('0.5');
    await page.getByLabel('Arm 2 weight').fill('0.5');
    await page.getByLabel('Coverage').fill('2');
    await page.getByLabel('Primary metric (the ship decision rests on it)').selectOption('ctr');
    await page.getByRole('button', { name: 'Review' }).click();
    const sent = page.getByRole('region', { name: 'What will be sent' });
    const json = JSON.parse((await sent.getByLabel('The JSON to be sent').textContent()) ?? '') as Record<string, unknown>;
    expect(json).toEqual({
      id: 'ui-ab',
      placement: 'read-next',
      kind: 'ab',
      coverage: 2,
      arms: [
        { name: 'control', recommender: { kind: 'co-read', version: '1' }, weight: 0.5 },
        { name: 'latest', recommender: { kind: 'latest', version: '1' }, weight: 0.5 },
      ],
      primaryMetric: 'ctr',
      guardrailMetrics: ['conversion', 'dwell_per_read'],
    });
    await sent.getByRole('button', { name: 'Create the experiment' }).click();
    await page.getByRole('alert').filter({ hasText: 'coverage' }).waitFor();
    expect(await page.getByRole('alert').filter({ hasText: 'coverage' }).textContent()).toMatch(
      /^Not created: .*coverage.*\(invalid_field\)$/,
    );
    await shot(page, '1-create-error');

    // 3. Coverage left to the default; review, create: the page shows the draft.
    await page.getByLabel('Coverage').fill('');
    await page.getByRole('button', { name: 'Review' }).click();
    expect(await sent.getByLabel('The JSON to be sent').textContent()).not.toContain('coverage');
    await sent.getByLabel('Reason (kept in the audit log)').fill('dashboard experiments test');
    await sent.getByRole('button', { name: 'Create the experiment' }).click();
    await page.getByRole('heading', { name: 'Draft: ui-ab' }).waitFor();
    expect(await page.getByRole('row', { name: /ui-ab/ }).textContent()).toContain('draft');
    const created = (await inject('GET', '/v1/admin/experiments/ui-ab')) as Record<string, unknown>;
    expect(created).toMatchObject({ status: 'draft', placement: 'read-next', primaryMetric: 'ctr' });
    expect(await axeViolations(page)).toEqual([]);

    // 4. Start through the confirm step.
    await page.getByRole('button', { name: 'Start the experiment…' }).click();
    await page.getByRole('button', { name: 'Confirm: start ui-ab' }).click();
    await page.getByRole('heading', { name: 'Report: ui-ab' }).waitFor();
    expect(((await inject('GET', '/v1/admin/experiments/ui-ab')) as { status: string }).status).toBe('running');

    // 5. Traffic: 60 readers get a slate; every reader views the page and sees the widget; the "latest"
    // arm's readers click and read twice as often as control's (2 in 3 against 1 in 3).
    const arms = new Map<string, number>();
    const events: unknown[] = [];
    for (let i = 0; i < 60; i++) {
      const reader = `ab-r${i}`;
      const s = await slate('read-next', reader);
      expect(s.arm).toBeDefined();
      arms.set(s.arm!, (arms.get(s.arm!) ?? 0) + 1);
      const at = { readerId: reader, sessionId: `${reader}-s` };
      const ts = Date.now();
      events.push(pageView(ts, { ...at, articleId: 'd1' }));
      events.push(
        impression(ts, {
          ...at,
          recommId: s.recommId,
          placement: 'read-next',
          articleId: 'd1',
          items: s.items.slice(0, 4).map((x) => ({ articleId: x.articleId, position: x.position })),
        }),
      );
      if (i % 3 < (s.arm === 'latest' ? 2 : 1)) {
        const item = s.items[0]!;
        events.push(click(ts, { ...at, recommId: s.recommId, placement: 'read-next', articleId: item.articleId, position: item.position }));
        events.push(read(ts, { ...at, articleId: item.articleId }));
      }
    }
    for (let i = 0; i < events.length; i += 100) await postEvents(events.slice(i, i + 100));
    expect([...arms.keys()].sort()).toEqual(['control', 'latest']);
    // The rollups lag ingestion by READNEXT_ROLLUP_LAG_MS (5 s): wait until the report counts every reader.
    await eventually(
      'the report to count the 60 readers with their clicks',
      async () => {
        const r = (await inject('GET', '/v1/admin/experiments/ui-ab/report')) as {
          metrics: { metric: string; arms: { n: number; value: number | null }[] }[];
        };
        const ctr = r.metrics.find((m) => m.metric === 'ctr')!;
        const n = ctr.arms.reduce((a, x) => a + x.n, 0);
        return n === 60 && ctr.arms.every((a) => (a.value ?? 0) > 0) ? true : undefined;
      },
      30_000,
    );

    // Each look catches the rollups up, and one a second of data later than the last snapshot takes
    // another: wait for two snapshots before now (their first needs a second of data after the start).
    await eventually(
      'the timeline to have two snapshots',
      async () => {
        const t = (await inject('GET', '/v1/admin/experiments/ui-ab/timeline')) as { points: unknown[] };
        return t.points.length >= 3 ? true : undefined;
      },
      15_000,
    );

    // 6. The report in the page: readers per arm, values with intervals, the comparison and the verdict.
    await page.reload();
    await page.getByRole('heading', { name: 'Verdict' }).waitFor({ timeout: 20_000 });
    const ctrCard = page.getByRole('region', { name: /Widget CTR/ });
    const rows = await ctrCard
      .locator('table')
      .first()
      .locator('tbody tr')
      .evaluateAll((rs) => rs.map((r) => r.textContent ?? ''));
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r).toMatch(/^(control|latest)\d+0\.\d+ \(-?0\.\d+ to 0\.\d+\)/);
    expect(await ctrCard.locator('svg.interval').count()).toBe(3); // two arms and one comparison
    expect(await ctrCard.locator('table').nth(1).textContent()).toMatch(/latest-?\d+\.\d%/);
    expect(await page.locator('.decision').count()).toBe(1);

    // The timeline under the report: the primary metric (CTR) over time, one row per snapshot and
    // one for now, drawn as a chart (canvas); another metric chosen from the labelled list.
    const timeline = page.getByRole('region', { name: 'Over time' });
    await timeline.locator('canvas').first().waitFor();
    const tlRows = timeline.getByTestId('timeline-table').locator('tbody tr');
    expect(await tlRows.count()).toBeGreaterThanOrEqual(2);
    expect(await timeline.getByRole('img', { name: /Widget CTR: each treatment's change against control over time/ }).count()).toBe(1);
    // The last row is now: every reader counted, with a change and its sequence.
    expect(await tlRows.last().textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?\d+: -?\d+\.\d% \(-?\d+\.\d% to -?\d+\.\d%\)$/);
    await timeline.getByLabel('Metric over time').selectOption('articles_read');
    await timeline.locator('figcaption', { hasText: 'Articles read per reader: change against control' }).waitFor();
    await timeline.locator('canvas').first().waitFor();
    expect(await tlRows.count()).toBeGreaterThanOrEqual(2);
    console.log(`timeline: ${await tlRows.count()} points`);
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, '2-report');

    // The same look with the sequential engine: an always-valid interval, wider than the fixed-horizon one.
    const width = async () => {
      const t = (await ctrCard.locator('table').nth(1).locator('tbody td').first().textContent()) ?? '';
      const m = /\((-?[\d.]+)% to (-?[\d.]+)%\)/.exec(t);
      expect(m, t).not.toBeNull();
      return Number(m![2]) - Number(m![1]);
    };
    const fixed = await width();
    await page.getByLabel('Engine').selectOption('sequential');
    await page.getByText('sequential engine').waitFor();
    const sequential = await width();
    console.log(
      `CTR latest vs control, interval width: fixed-horizon ${fixed.toFixed(1)} points, sequential ${sequential.toFixed(1)} points`,
    );
    expect(sequential).toBeGreaterThan(fixed);

    // 7. The interleaving experiment: the team preference with its sign test (10 against 2: p = 2·79/4096).
    await page.getByRole('link', { name: 'il-teams' }).click();
    const pref = page.getByTestId('preference');
    await pref.waitFor();
    expect(await pref.textContent()).toContain('p = 0.0386');
    expect(await pref.textContent()).toContain('0.667'); // (10 − 2) / 12
    expect(await page.getByRole('img', { name: /10 prefer section, 2 prefer global, 0 tied/ }).count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, '3-interleaving');

    // 8. Stop ui-ab through its confirm step; then at phone width nothing scrolls sideways.
    await page.getByRole('link', { name: 'ui-ab' }).click();
    await page.getByRole('button', { name: 'Stop the experiment…' }).click();
    await page.getByRole('button', { name: 'Confirm: stop ui-ab' }).click();
    await expect.poll(async () => ((await inject('GET', '/v1/admin/experiments/ui-ab')) as { status: string }).status).toBe('stopped');
    await page.getByRole('heading', { name: 'Verdict' }).waitFor({ timeout: 20_000 });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'New experiment…' }).click();
    await page.waitForTimeout(200);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(page, '4-form-390px');
    expect(w.unexpected()).toEqual([]);
  });
});
