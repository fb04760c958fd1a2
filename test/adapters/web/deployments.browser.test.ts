import { describe, expect, it } from 'vitest';
import { admin } from '../../helpers/app.js';
import { axeViolations } from './a11y.js';
import { dashboardSuite, SESSION_401, signIn, startedExperiment, storyArticles, watch } from './dashboard-browser.js';
import { seedArticles } from './helpers.js';

// The Deployments page steering a placement in a real headless Chromium against the real app: the
// live recommender changed in the UI is what /v1/recommendations serves next; a shadow added in the
// UI is in GET /v1/admin/deployments; a bad kind shows the server's 400 in the form. Then the
// accessibility check (axe-core, ./a11y.ts) on the sign-in page and on every page the navigation lists.

const suite = dashboardSuite('deployments.browser.test.ts', async (live) => {
  await seedArticles(live.app, storyArticles(8, 's'));
  // An experiment on another placement, so that the Experiments page has a report to check too.
  const front = await live.app.inject({
    method: 'PUT',
    url: '/v1/admin/deployments/front',
    headers: admin,
    payload: { live: { kind: 'latest', version: '1' } },
  });
  expect(front.statusCode, front.body).toBe(200);
  await startedExperiment(
    live.app,
    {
      id: 'a11y-ab',
      placement: 'front',
      arms: [
        ['control', 'latest'],
        ['popular', 'popular'],
      ],
    },
    { article: 's1', readers: 10, sessionPrefix: 'x' },
  );
});

/** What /v1/recommendations serves read-next now: the recommender's kind@version (no experiment runs there). */
async function served(): Promise<string> {
  const res = await suite.live.app.inject({
    method: 'GET',
    url: '/v1/recommendations?placement=read-next&article=s1&reader=steer&session=steer',
  });
  expect(res.statusCode, res.body).toBe(200);
  const r = JSON.parse(res.body) as { experiment: string | null; recommender: { kind: string; version: string } };
  expect(r.experiment).toBeNull();
  return `${r.recommender.kind}@${r.recommender.version}`;
}

describe.skipIf(!suite.chromium)('steering deployments in Chromium', () => {
  it('changes the live recommender and adds a shadow through confirmed forms', { timeout: 90_000 }, async () => {
    const { live, browser } = suite;
    const page = await browser.context.newPage();
    const w = watch(page, '4\\d\\d');
    w.expect(SESSION_401);
    await signIn(page, live.url, '#/deployments');
    await page.goto(`${live.url}/dashboard/#/deployments`);
    await page.getByRole('heading', { level: 1, name: 'Deployments' }).waitFor();
    const card = page.getByRole('region', { name: /Placement read-next/ });
    await expect.poll(() => card.getByTestId('live').textContent()).toBe('co-read@1');
    const before = await served();
    expect(before).toBe('co-read@1');

    // 1. A kind the server does not serve: its 400 shows in the form, nothing changes.
    await card.getByRole('button', { name: 'Change live…' }).click();
    const liveForm = card.getByRole('group', { name: 'Live recommender of read-next' });
    await liveForm.getByLabel('New live recommender').fill('no-such-kind@1');
    await liveForm.getByRole('button', { name: 'Review the change' }).click();
    await liveForm.getByRole('button', { name: 'Confirm the new live recommender' }).click();
    w.expect(/^answer: 400 POST \/v1\/admin\/deployments\/read-next\/live$/);
    await liveForm.getByRole('alert').filter({ hasText: 'unknown_recommender' }).waitFor();
    expect(await served()).toBe('co-read@1');

    // 2. Back, a valid kind: the confirm step says before → after; with a reason, the call changes what readers get.
    await liveForm.getByRole('button', { name: 'Back' }).click();
    await liveForm.getByLabel('New live recommender').fill('latest@1');
    await liveForm.getByRole('button', { name: 'Review the change' }).click();
    const confirm = liveForm.getByRole('region', { name: 'What will change' });
    expect(await confirm.textContent()).toContain('live: co-read@1 → latest@1');
    await confirm.getByLabel('Reason (kept in the audit log)').fill('latest is better at night');
    await browser.shot(page, '1-confirm-live');
    await confirm.getByRole('button', { name: 'Confirm the new live recommender' }).click();
    await card.getByRole('status').filter({ hasText: 'live: co-read@1 → latest@1' }).waitFor();
    await expect.poll(() => card.getByTestId('live').textContent()).toBe('latest@1');
    expect(await served()).toBe('latest@1');
    await page.getByRole('cell', { name: 'latest is better at night' }).first().waitFor(); // the audit log, reloaded

    // 3. A shadow added in the UI is in GET /v1/admin/deployments.
    await card.getByRole('button', { name: 'Add a shadow…' }).click();
    const shadowForm = card.getByRole('group', { name: 'Add a shadow to read-next' });
    await shadowForm.getByLabel('Shadow recommender').fill('popular@1');
    await shadowForm.getByRole('button', { name: 'Review the change' }).click();
    expect(await shadowForm.getByRole('region', { name: 'What will change' }).textContent()).toContain('shadows: none → popular@1');
    await shadowForm.getByRole('button', { name: 'Confirm the new shadow' }).click();
    await card.getByRole('status').filter({ hasText: 'shadows: none → popular@1' }).waitFor();
    const all = JSON.parse((await live.app.inject({ method: 'GET', url: '/v1/admin/deployments', headers: admin })).body) as {
      items: { name: string; live: { kind: string }; shadows: { kind: string; version: string }[] }[];
    };
    expect(all.items.find((d) => d.name === 'read-next')).toMatchObject({
      live: { kind: 'latest' },
      shadows: [{ kind: 'popular', version: '1' }],
    });

    // 4. The exploration share (PUT .../exploration) through its form, then a canary started and stopped.
    await card.getByRole('button', { name: 'Start exploration…' }).click();
    const explore = card.getByRole('group', { name: 'Exploration on read-next' });
    await explore.getByLabel('Share of live slates explored (%)').fill('5');
    await explore.getByRole('button', { name: 'Review the change' }).click();
    expect(await explore.getByRole('region', { name: 'What will change' }).textContent()).toContain(
      'exploration: none → 5.0% of slates (pool 10)',
    );
    await explore.getByRole('button', { name: 'Confirm the exploration share' }).click();
    await card.getByRole('status').filter({ hasText: 'exploration: none' }).waitFor();
    await card.getByRole('button', { name: 'Start a canary…' }).click();
    const canary = card.getByRole('group', { name: 'Start a canary on read-next' });
    await canary.getByLabel('Canary recommender').fill('popular@1');
    await canary.getByLabel('Share of readers (%)').fill('20');
    await canary.getByRole('button', { name: 'Review the change' }).click();
    expect(await canary.getByRole('region', { name: 'What will change' }).textContent()).toContain(
      'canary: none → popular@1 on 20% of readers',
    );
    await canary.getByRole('button', { name: 'Confirm the canary' }).click();
    await card.getByRole('status').filter({ hasText: 'canary: none' }).waitFor();
    await browser.shot(page, '2-steered');
    const after = JSON.parse((await live.app.inject({ method: 'GET', url: '/v1/admin/deployments/read-next', headers: admin })).body) as {
      exploration: unknown;
      canary: { percent: number } | null;
    };
    expect(after).toMatchObject({ exploration: { share: 0.05, pool: 10 }, canary: { percent: 20 } });
    await card.getByRole('button', { name: 'Stop the canary…' }).click();
    const stop = card.getByRole('group', { name: 'Stop the canary of read-next' });
    await stop.getByRole('button', { name: 'Review the change' }).click();
    await stop.getByLabel('Reason (kept in the audit log)').fill('seen enough');
    await stop.getByRole('button', { name: 'Confirm stopping the canary' }).click();
    await card.getByRole('status').filter({ hasText: 'canary: popular@1 on 20% of readers → none' }).waitFor();
    const audit = JSON.parse(
      (await live.app.inject({ method: 'GET', url: '/v1/admin/audit?target=placement:read-next&limit=1', headers: admin })).body,
    ) as { items: { action: string; reason: string }[] };
    expect(audit.items[0]).toMatchObject({ action: 'stop canary', reason: 'seen enough' });
    expect(w.unexpected()).toEqual([]);
    await page.close();
  });

  it('has no serious or critical accessibility violation on any page (axe-core)', { timeout: 120_000 }, async () => {
    const { live, browser } = suite;
    const page = await browser.context.newPage();
    const w = watch(page, '4\\d\\d');
    w.expect(SESSION_401);
    const found: Record<string, string[]> = {};
    await browser.context.clearCookies();
    await page.goto(`${live.url}/dashboard/`);
    await page.getByLabel('Admin key').waitFor();
    found['sign-in'] = await axeViolations(page);
    await signIn(page, live.url, '#/deployments');
    const paths = await page
      .getByRole('navigation', { name: 'Dashboard pages' })
      .getByRole('link')
      .evaluateAll((as) => as.map((a) => (a.getAttribute('href') ?? '').replace(/^#\//, '')));
    expect(paths).toEqual(expect.arrayContaining(['overview', 'deployments', 'experiments', 'shadow', 'roi', 'data']));
    for (const p of [...paths, 'experiments/a11y-ab']) {
      await page.goto(`${live.url}/dashboard/#/${p}`);
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle');
      if (p === 'roi') {
        await page.getByRole('button', { name: 'Run the analysis' }).click();
        await page.getByRole('heading', { name: 'Net value of each option' }).waitFor({ timeout: 30_000 });
      }
      if (p === 'deployments') {
        // The forms open too: their fields and the confirm step are checked as well.
        const card = page.getByRole('region', { name: /Placement read-next/ });
        await card.getByRole('button', { name: 'Change live…' }).click();
        await card.getByLabel('New live recommender').fill('latest@2');
        await card.getByRole('button', { name: 'Review the change' }).click();
        await card.getByRole('region', { name: 'What will change' }).waitFor();
      }
      found[p] = await axeViolations(page);
      await browser.shot(page, `a11y-${p.replaceAll('/', '-')}`);
    }
    console.log(`axe-core: ${Object.keys(found).length} pages checked: ${Object.keys(found).join(', ')}`);
    expect(Object.fromEntries(Object.entries(found).filter(([, v]) => v.length > 0))).toEqual({});
    // The check can fail: an unlabelled field and a low-contrast line added to the page are reported.
    await page.evaluate(() => {
      const m = document.querySelector('main')!;
      m.insertAdjacentHTML('beforeend', '<input id="no-label"><p style="color:#ccc;background:#fff">faint</p>');
    });
    const planted = await axeViolations(page);
    expect(planted.map((v) => v.split(' ')[0])).toEqual(expect.arrayContaining(['label', 'color-contrast']));
    expect(w.unexpected()).toEqual([]);
    await page.close();
  });
});
