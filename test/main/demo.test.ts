import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/adapters/cli/program.js';
import { DEMO_SCHEDULES, storyDays } from '../../src/app/demo.js';
import { DAY_MS } from '../../src/core/kernel/time.js';
import { cliDeps } from '../../src/main/cli-deps.js';
import { runDemo, spaceCatalog, type RunningDemo } from '../../src/main/demo.js';
import { tempDir } from '../helpers/databases.js';
import { axeViolations } from '../adapters/web/a11y.js';
import { chromiumFor, launchDashboardBrowser, watch, SESSION_401 } from '../adapters/web/dashboard-browser.js';
import { buildDashboard } from '../../scripts/build.mjs';

// `readnext demo --fast` (issue 21) in process, on generated articles (as on a clean clone without
// ../shared) and fewer readers than the real --fast: every step's output, the dashboard's data after
// it, screenshots of the dashboard in Chromium, the resume and the reset. The figures moving with the
// world's seed and the null world are in demo-worlds.test.ts, so that the two files run side by side.
// Each full story takes 1-3 minutes (more on a loaded 2-core machine): the time limits are guards
// against a hang, not targets.

const dir = tempDir('readnext-demo-');
const READERS = 3000;
const fast = DEMO_SCHEDULES.fast;
/** The story ends an hour ago: the live phase (when it runs) has an hour of traffic to catch up at once. */
const startTs = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000 - storyDays(fast) * DAY_MS;
const printed: string[] = [];
let demo: RunningDemo;

afterAll(async () => {
  await demo?.stop();
  dir.remove();
});

async function api<T>(path: string): Promise<T> {
  const r = await fetch(`${demo.url}${path}`, { headers: { authorization: `Bearer ${demo.adminKey}` } });
  expect(r.status, path).toBe(200);
  return (await r.json()) as T;
}

describe('readnext demo --fast', () => {
  beforeAll(async () => {
    demo = await runDemo(
      { fast: true, live: false, dir: dir.path, port: 0, catalog: 'none', readers: READERS, startTs },
      { print: (l) => printed.push(l) },
    );
  }, 420_000);

  it('prints each of the seven steps with the figure that matters and a dashboard link', () => {
    const steps = demo.result!.steps;
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const text = printed.join('\n');
    for (const s of steps) expect(text).toContain(`${s.step}/7 ${s.title}`);
    const line = (n: number) => steps.find((s) => s.step === n)!.lines.join('\n');
    expect(line(1)).toMatch(/[\d,]+ events of 3,000 simulated readers .* 0 rejected/);
    expect(line(2)).toMatch(/quality: .*\nsignal: .*AUC 0\.\d{3}.*\nstability: /);
    expect(line(3)).toMatch(/heuristic: net value .* best in \d+% of the futures/);
    expect(line(3)).toMatch(/lift first: \w+/);
    expect(line(4)).toMatch(/articles_read [+-]\d+\.\d% \(95% interval [+-]\d+\.\d% to [+-]\d+\.\d%\)/);
    expect(line(4)).toMatch(/verdict: /);
    expect(line(5)).toMatch(/shadow: [\d,]+ requests, p99 [\d.]+ ms/);
    expect(line(5)).toMatch(/off-policy/);
    expect(line(6)).toMatch(/canary \(10% of readers\) for 1 day: [\d,]+ responses/);
    expect(line(7)).toMatch(/heuristic_uplift: prior .* -> measured .* -> posterior/);
    expect(line(7)).toMatch(/decision: /);
    for (const n of [1, 2, 3, 4, 5, 6, 7]) expect(line(n)).toMatch(new RegExp(`see ${demo.url}/dashboard/#/`));
    // The figures are the platform's: the report's own numbers, not canned text.
    const f4 = steps.find((s) => s.step === 4)!.figures as { estimate: number; ci: [number, number] };
    expect(line(4)).toContain(`${f4.estimate >= 0 ? '+' : ''}${(f4.estimate * 100).toFixed(1)}%`);
  });

  it('leaves the dashboard data on every page: KPIs, experiments, the timeline, models, shadow, ROI revisions', async () => {
    const kpis = await api<{ days: { pageViews: number }[] }>('/v1/admin/kpis');
    expect(kpis.days.reduce((a, d) => a + d.pageViews, 0)).toBeGreaterThan(1000);
    const ex = await api<{ items: { id: string; status: string }[] }>('/v1/admin/experiments');
    expect(ex.items.map((e) => [e.id, e.status]).sort()).toEqual(
      demo.result!.steps.some((s) => s.step === 6 && (s.figures as { canaryBreached: boolean }).canaryBreached)
        ? [['heuristic-vs-status-quo', 'stopped']]
        : [
            ['heuristic-vs-status-quo', 'stopped'],
            ['model-vs-heuristic', 'stopped'],
          ],
    );
    const report = await api<{ metrics: { metric: string }[] }>('/v1/admin/experiments/heuristic-vs-status-quo/report');
    expect(report.metrics.map((m) => m.metric)).toContain('articles_read');
    const timeline = await api<{ points: unknown[] }>('/v1/admin/experiments/heuristic-vs-status-quo/timeline');
    expect(timeline.points.length).toBeGreaterThanOrEqual(2);
    const models = await api<{ items: { version: number }[] }>('/v1/admin/models');
    expect(models.items).toHaveLength(1);
    const revisions = await api<{ revisions: unknown[] }>('/v1/admin/roi/revisions');
    expect(revisions.revisions.length).toBe(2);
    const audit = await api<{ items: { action: string }[] }>('/v1/admin/audit?limit=1000');
    expect(audit.items.map((a) => a.action)).toEqual(expect.arrayContaining(['set exploration', 'add shadow', 'start canary']));
  });

  const browser = chromiumFor('test/main/demo.test.ts');
  it.skipIf(!browser)(
    'shows the story in the dashboard: overview, the experiment and the ROI (screenshots as artefacts)',
    async () => {
      await buildDashboard();
      const b = await launchDashboardBrowser(browser!, 'demo');
      try {
        const page = await b.firstPage();
        const w = watch(page);
        w.expect(SESSION_401);
        await page.goto(`${demo.url}/dashboard/`);
        await page.getByLabel('Admin key').fill(demo.adminKey);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('navigation', { name: 'Dashboard pages' }).waitFor();
        // The first page as a returning user opens it (the session cookie set): navigation to the first chart drawn.
        const t0 = performance.now();
        await page.goto(`${demo.url}/dashboard/#/overview`);
        await page.locator('canvas').first().waitFor();
        console.log(
          `demo: the overview was interactive with its first chart ${Math.round(performance.now() - t0)} ms after navigation (printed, not asserted)`,
        );
        for (const [route, name, ready] of [
          ['#/overview', 'overview', page.locator('canvas').first()],
          ['#/experiments/heuristic-vs-status-quo', 'experiment', page.getByRole('img', { name: /over time/i }).first()],
          ['#/roi', 'roi', page.locator('canvas, svg').first()],
        ] as const) {
          await page.goto(`${demo.url}/dashboard/${route}`);
          await ready.waitFor({ timeout: 20_000 });
          await page.waitForTimeout(300);
          await b.shot(page, name);
          expect(await axeViolations(page), name).toEqual([]);
        }
        expect(w.unexpected()).toEqual([]);
      } finally {
        await b.close();
      }
    },
    90_000,
  );

  it('resumes the live demo on the same database, then --reset starts over', async () => {
    const stateBefore = JSON.parse(readFileSync(join(dir.path, 'demo.json'), 'utf8')) as { generation: number; adminKey: string };
    // Page views since the story's start (the default window ends at the clock, which moves on).
    const since = new Date(startTs).toISOString().slice(0, 10);
    const events = async () =>
      (await api<{ days: { pageViews: number }[] }>(`/v1/admin/kpis?since=${since}`)).days.reduce((a, d) => a + d.pageViews, 0);
    const before = await events();
    await demo.stop();
    const lines: string[] = [];
    demo = await runDemo({ dir: dir.path, port: 0, liveReaders: 200_000 }, { print: (l) => lines.push(l) });
    expect(demo.result).toBeNull();
    expect(lines.join('\n')).toMatch(/resuming the live demo/);
    expect(lines.join('\n')).toMatch(/live: the simulated readers keep reading in real time/);
    expect(demo.adminKey).toBe(stateBefore.adminKey);
    // The live phase catches up the hour since the story's end: page views arrive on the same database.
    await expect.poll(events, { timeout: 30_000, interval: 500 }).toBeGreaterThan(before);
    await demo.stop();
    const reset: string[] = [];
    demo = await runDemo(
      { reset: true, fast: true, live: false, dir: dir.path, port: 0, catalog: 'none', readers: 300, startTs },
      { print: (l) => reset.push(l) },
    );
    expect(demo.result!.steps).toHaveLength(7);
    expect(reset[0]).toMatch(/300 readers/);
    expect(JSON.parse(readFileSync(join(dir.path, 'demo.json'), 'utf8'))).toMatchObject({ generation: 0 });
  }, 360_000);
});

describe('readnext demo: bad input', () => {
  it('exits 2 with one line naming the option', async () => {
    const err: string[] = [];
    const code = await runCli(cliDeps({ out: () => undefined, err: (l) => err.push(l), isTty: false }), [
      'demo',
      '--world',
      'no-such-world',
      '--dir',
      dir.path,
      '--no-live',
      '--port',
      '0',
    ]);
    expect(code).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/--world: no shipped world "no-such-world"/);
  });
});

describe('spaceCatalog', () => {
  it('spaces a catalog at the rate asked, newest first, moving every date with its article', () => {
    const art = (id: string, h: number) => ({
      id,
      title: id,
      url: null,
      section: null,
      tags: [],
      lead: null,
      body: null,
      author: null,
      language: null,
      status: 'published' as const,
      paywalled: false,
      publishedAt: h * 3_600_000,
      updatedAt: h * 3_600_000 + 1000,
      expiresAt: null,
      embargoUntil: null,
    });
    const out = spaceCatalog([art('a', 0), art('b', 100), art('c', 50)], 2);
    expect(out.map((x) => [x.id, x.publishedAt, x.updatedAt])).toEqual([
      ['b', 100 * 3_600_000, 100 * 3_600_000 + 1000],
      ['c', 100 * 3_600_000 - 1_800_000, 100 * 3_600_000 - 1_800_000 + 1000],
      ['a', 100 * 3_600_000 - 3_600_000, 100 * 3_600_000 - 3_600_000 + 1000],
    ]);
  });
});
