import { describe, expect, it } from 'vitest';
import { admin, ADMIN_KEY } from '../../helpers/app.js';
import { dashboardSuite, expectNoSideScroll, PHONE, startedExperiment, storyArticles, watch } from './dashboard-browser.js';
import { seedArticles } from './helpers.js';

// The dashboard (src/adapters/web/dashboard, built by scripts/build.mjs) in a real headless Chromium
// against the real app: sign-in with the admin key (session cookie + CSRF token, routes/dashboard.ts),
// Deployments with a rollback through the UI, Experiments with a report, ROI on the template.
// Screenshots of every page are kept in a temporary folder printed at the end (test artefacts).

const suite = dashboardSuite('dashboard.browser.test.ts', async (live) => {
  await seedArticles(live.app, storyArticles(8, 'd'));
  // Revision 2 of read-next adds a shadow, so that there is a revision to roll back to.
  const shadow = await live.app.inject({
    method: 'POST',
    url: '/v1/admin/deployments/read-next/shadows',
    headers: admin,
    payload: { recommender: { kind: 'popular', version: '1' }, reason: 'shadow for the dashboard test' },
  });
  expect(shadow.statusCode).toBe(200);
  // A running A/B experiment with a few exposed readers.
  await startedExperiment(
    live.app,
    {
      id: 'dash-ab',
      placement: 'read-next',
      arms: [
        ['control', 'co-read'],
        ['latest', 'latest'],
      ],
    },
    { article: 'd1', readers: 20, sessionPrefix: 's' },
  );
});

describe.skipIf(!suite.chromium)('the dashboard in Chromium', () => {
  it(
    'signs in, shows and rolls back deployments, shows an experiment report and the ROI of the template',
    { timeout: 90_000 },
    async () => {
      const { live, browser } = suite;
      const page = await browser.firstPage();
      const w = watch(page);
      // The unauthenticated start (GET session -> 401) and one wrong key (POST session -> 401) are expected.
      w.expect(/^answer: 401 (GET|POST) \/v1\/dashboard\/session$/);

      // 1. An unauthenticated visitor sees only the sign-in form; the time until it can be typed in is the first page's "interactive".
      const t0 = Date.now();
      await page.goto(`${live.url}/dashboard/`);
      const key = page.getByLabel('Admin key');
      await key.waitFor({ state: 'visible' });
      await key.focus();
      const interactiveMs = Date.now() - t0;
      const nav = await page.evaluate(() => {
        const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        return { domContentLoaded: Math.round(n.domContentLoadedEventEnd), load: Math.round(n.loadEventEnd) };
      });
      console.log(
        `dashboard: sign-in form interactive ${interactiveMs} ms after goto (DOMContentLoaded ${nav.domContentLoaded} ms, load ${nav.load} ms)`,
      );
      expect(interactiveMs).toBeLessThan(3000); // the target is 1 s; the bound leaves room for a loaded shared machine
      expect(await page.getByRole('navigation').count()).toBe(0);
      await expect.poll(() => page.evaluate(() => document.body.innerText)).not.toMatch(/co-read/);
      await browser.shot(page, '1-sign-in');

      // 2. A wrong key is refused; the admin key signs in (HttpOnly cookie: the page cannot read it) and lands on the Overview.
      await key.fill('not-the-key');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
      await key.fill(ADMIN_KEY);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      await page.getByRole('link', { name: 'Deployments' }).click();
      await page.getByRole('heading', { level: 1, name: 'Deployments' }).waitFor();
      expect(await page.evaluate(() => document.cookie)).toBe('');
      const card = page.getByRole('region', { name: /Placement read-next/ });
      await expect.poll(() => card.getByTestId('live').textContent()).toBe('co-read@1');
      expect(await card.textContent()).toContain('popular@1'); // the shadow
      await page.getByRole('cell', { name: 'add shadow' }).first().waitFor(); // the audit log
      await browser.shot(page, '2-deployments');

      // 3. Roll back to revision 1 through the confirm step, which says what will change; the server then serves revision 3.
      await card.getByRole('button', { name: 'Roll back…' }).click();
      await card.getByLabel('Revision to restore').selectOption('1');
      const confirm = card.getByRole('region', { name: 'What will change' });
      await expect.poll(() => confirm.textContent()).toContain('shadows: popular@1 → none');
      await card.getByLabel('Reason (kept in the audit log)').fill('dashboard test');
      await confirm.getByRole('button', { name: 'Confirm rollback to revision 1' }).click();
      await card.getByRole('status').filter({ hasText: 'revision 3 restores revision 1' }).waitFor();
      const after = JSON.parse((await live.app.inject({ method: 'GET', url: '/v1/admin/deployments/read-next', headers: admin })).body) as {
        revision: number;
        shadows: unknown[];
      };
      expect(after).toMatchObject({ revision: 3, shadows: [] });
      const audit = JSON.parse((await live.app.inject({ method: 'GET', url: '/v1/admin/audit?limit=1', headers: admin })).body) as {
        items: { action: string; reason: string }[];
      };
      expect(audit.items[0]).toMatchObject({ reason: 'dashboard test' });

      // 4. Experiments: the list, then the report of dash-ab with per-arm interval bars and the verdict.
      await page.getByRole('link', { name: 'Experiments' }).click();
      await page.getByRole('heading', { level: 1, name: 'Experiments' }).waitFor();
      await page.getByRole('link', { name: 'dash-ab' }).click();
      await page.getByRole('heading', { name: 'Verdict' }).waitFor({ timeout: 20_000 });
      expect(await page.locator('.decision').count()).toBe(1);
      await browser.shot(page, '3-experiments');

      // 5. ROI: run the template; three options, each with its quantile band, P(best), and the EVPPI ranking.
      await page.getByRole('link', { name: 'ROI' }).click();
      await page.getByRole('heading', { level: 1, name: 'ROI' }).waitFor();
      await page.getByRole('button', { name: 'Run the analysis' }).click();
      await page.getByRole('heading', { name: 'Net value of each option' }).waitFor({ timeout: 30_000 });
      const options = await page.locator('table.options tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-option')));
      expect(options).toEqual(['status_quo', 'heuristic', 'model']);
      expect(await page.locator('table.options svg.band').count()).toBe(3);
      expect(await page.locator('ol.evppi li').count()).toBeGreaterThan(3);
      await browser.shot(page, '4-roi');

      // 6. Readable at phone width: no page scrolls sideways.
      await page.setViewportSize(PHONE);
      for (const p of ['deployments', 'experiments/dash-ab', 'roi']) {
        await page.goto(`${live.url}/dashboard/#/${p}`);
        await page.locator('main h1').waitFor();
        await expectNoSideScroll(page, p, 200);
      }
      await browser.shot(page, '5-roi-390px');

      // 7. Signing out goes back to the form; the admin API then refuses the browser.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('Admin key').waitFor();
      w.expect(/^answer: 401 GET \/v1\/admin\/deployments$/);
      const status = await page.evaluate(async () => (await fetch('/v1/admin/deployments', { credentials: 'same-origin' })).status);
      expect(status).toBe(401);
      expect(w.unexpected()).toEqual([]);
    },
  );
});
