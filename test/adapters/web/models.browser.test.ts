import { describe, expect, it } from 'vitest';
import { admin } from '../../helpers/app.js';
import { loadModelLog, modelLog } from '../../helpers/model-log.js';
import { axeViolations } from './a11y.js';
import { dashboardSuite, expectNoSideScroll, PHONE } from './dashboard-browser.js';

// The dashboard's Models page (GET /v1/admin/models, POST /v1/admin/models/train, the deployment
// endpoints) in a real headless Chromium against the real app. Setup: a small synthetic log of
// read-next slates and clicks (test/helpers/model-log.ts) written to the app's store, ending 12 h
// ago, and a model trained on it over the admin API. Screenshots are kept in a temporary folder
// printed at the end.

const HOUR = 3_600_000;
let trained: { version: number; metrics: { auc: number } };

const suite = dashboardSuite('models.browser.test.ts', 120_000, async (live) => {
  const now = Date.now();
  await loadModelLog(live.services.storage, modelLog({ start: now - 48 * HOUR, hours: 36 }), now - 72 * HOUR);
  const res = await live.app.inject({
    method: 'POST',
    url: '/v1/admin/models/train',
    headers: admin,
    payload: { placement: 'read-next' },
  });
  expect(res.statusCode, res.body).toBe(200);
  trained = res.json();
});

describe.skipIf(!suite.chromium)('the Models page in Chromium', () => {
  it(
    'lists the trained model with its AUC, trains another, deploys one as a shadow and the other into an experiment',
    { timeout: 120_000 },
    async () => {
      const { live, browser } = suite;
      const { page, w } = await suite.signedIn();

      // 1. The registry: the model of the setup, its AUC as the API gave it.
      await page.getByRole('link', { name: 'Models' }).click();
      await page.getByRole('heading', { level: 1, name: 'Models' }).waitFor();
      const row = page.locator(`table.models tr[data-version="${trained.version}"]`);
      await row.waitFor({ timeout: 20_000 });
      expect(await row.getByTestId('auc').textContent()).toBe(trained.metrics.auc.toLocaleString('en-GB', { maximumFractionDigits: 4 }));
      expect(trained.metrics.auc).toBeGreaterThan(0.58); // 0.63 on this log, the HTTP test says why
      expect(await row.locator('th').textContent()).toContain(`model@${trained.version}`);
      expect(await row.textContent()).toContain('read-next');
      await browser.shot(page, '1-models');

      // 2. Train another from the form (default window, seed 2): the page waits, then lists it.
      await page.getByLabel('Seed').fill('2');
      await page.getByRole('button', { name: 'Train', exact: true }).click();
      const stored = page.getByText(/^Stored model@\d+ for read-next: AUC/);
      await stored.waitFor({ timeout: 60_000 });
      const second = Number(/model@(\d+)/.exec((await stored.textContent())!)![1]);
      expect(second).toBeGreaterThan(trained.version);
      await page.locator(`table.models tr[data-version="${second}"]`).waitFor();
      expect(await page.locator('table.models tbody tr').count()).toBe(2);

      // 3. Deploy the first as a shadow: the confirm step says what changes, then the API has it.
      await page.getByRole('button', { name: `Deploy model@${trained.version}…` }).click();
      await page.getByRole('heading', { name: `Deploy model@${trained.version} on read-next` }).waitFor();
      expect(await page.getByLabel('Shadow: computed beside live, logged, never shown').isChecked()).toBe(true);
      const plan = page.getByRole('region', { name: 'What will change' });
      expect(await plan.textContent()).toContain(`shadows: none → model@${trained.version}`);
      // The live choice says what it would change, and does nothing until confirmed.
      await page.getByLabel('Live: served to every reader').check();
      expect(await plan.textContent()).toMatch(new RegExp(`live: \\S+ → model@${trained.version}`));
      await page.getByLabel('Shadow: computed beside live, logged, never shown').check();
      await page.getByLabel('Reason (kept in the audit log)').fill('models page test');
      await browser.shot(page, '2-models-deploy-confirm');
      await page.getByRole('button', { name: `Confirm: deploy model@${trained.version} as shadow` }).click();
      await page.getByText(new RegExp(`^Deployed model@${trained.version} as shadow of read-next: revision \\d+`)).waitFor();

      const res = await live.app.inject({ url: '/v1/admin/deployments', headers: admin });
      const readNext = (res.json() as { items: { name: string; shadows: unknown[]; live: { kind: string } }[] }).items.find(
        (d) => d.name === 'read-next',
      )!;
      expect(readNext.shadows).toContainEqual({ kind: 'model', version: String(trained.version) });
      expect(readNext.live.kind).not.toBe('model');
      // The registry row now says where it is deployed.
      await expect
        .poll(() => page.locator(`table.models tr[data-version="${trained.version}"]`).textContent())
        .toContain('read-next shadows');
      await browser.shot(page, '3-models-deployed');

      // 4. Deploy the second into an A/B experiment against live: the confirm step says what it
      // creates; once confirmed the experiment runs with the model as its treatment, and the page
      // links to it.
      await page.getByRole('button', { name: `Deploy model@${second}…` }).click();
      await page.getByRole('heading', { name: `Deploy model@${second} on read-next` }).waitFor();
      await page.getByLabel('Experiment: an A/B test against the live recommender').check();
      const experimentId = `read-next-model-${second}`;
      expect(await page.getByLabel('Experiment id').inputValue()).toBe(experimentId);
      expect(await page.getByLabel(/^Treatment weight/).inputValue()).toBe('0.5');
      expect(await page.getByLabel(/^Control weight/).inputValue()).toBe('0.5');
      await page.getByLabel('Primary metric').selectOption('ctr');
      expect(await page.getByLabel('Start it now').isChecked()).toBe(true);
      const expPlan = page.getByRole('region', { name: 'What will change' });
      expect(await expPlan.textContent()).toMatch(
        new RegExp(
          `creates the A/B experiment ${experimentId} on read-next .*control ${readNext.live.kind}@\\S+ weight 0\\.5, treatment model@${second} weight 0\\.5`,
        ),
      );
      expect(await expPlan.textContent()).toContain('primary metric Widget CTR');
      expect(await expPlan.textContent()).toContain('then starts it');
      // No serious or critical accessibility violation with the experiment fields open.
      expect(await axeViolations(page)).toEqual([]);
      await browser.shot(page, '4-models-experiment-confirm');
      await page.getByRole('button', { name: `Confirm: deploy model@${second} to an experiment` }).click();
      const open = page.getByRole('link', { name: `Open the experiment ${experimentId}` });
      await open.waitFor();
      expect(await page.getByText(new RegExp(`^Started the experiment ${experimentId}: model@${second} against`)).count()).toBe(1);
      const experiments = (await live.app.inject({ url: '/v1/admin/experiments', headers: admin })).json() as {
        items: {
          id: string;
          status: string;
          placement: string;
          primaryMetric: string;
          arms: { name: string; weight: number; recommender: unknown }[];
        }[];
      };
      const created = experiments.items.find((e) => e.id === experimentId)!;
      expect(created).toMatchObject({ status: 'running', placement: 'read-next', primaryMetric: 'ctr' });
      expect(created.arms.map((a) => [a.name, a.weight])).toEqual([
        ['control', 0.5],
        ['treatment', 0.5],
      ]);
      expect(created.arms[1]!.recommender).toEqual({ kind: 'model', version: String(second) });
      expect(created.arms[0]!.recommender).toEqual(readNext.live);
      await expect
        .poll(() => page.locator(`table.models tr[data-version="${second}"]`).textContent())
        .toContain(`experiment ${experimentId}`);
      // The link opens the experiment's page.
      await open.click();
      await page.waitForURL(new RegExp(`#/experiments/${experimentId}$`));
      await page.getByRole('heading', { level: 1, name: 'Experiments' }).waitFor();
      await page.getByRole('link', { name: 'Models' }).click();
      await page.getByRole('heading', { level: 1, name: 'Models' }).waitFor();

      // 5. Readable at phone width (the table scrolls inside its box).
      await page.setViewportSize(PHONE);
      await expectNoSideScroll(page);
      await browser.shot(page, '5-models-390px');
      expect(w.unexpected()).toEqual([]);
    },
  );
});
