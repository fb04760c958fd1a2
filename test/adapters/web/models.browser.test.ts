import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../../scripts/build.mjs';
import { admin, ADMIN_KEY } from '../../helpers/app.js';
import { loadModelLog, modelLog } from '../../helpers/model-log.js';
import { CHROMIUM_ARGS, findChromium, liveApp, type LiveApp } from './helpers.js';

// The dashboard's Models page (GET /v1/admin/models, POST /v1/admin/models/train, the deployment
// endpoints) in a real headless Chromium against the real app. Setup: a small synthetic log of
// read-next slates and clicks (test/helpers/model-log.ts) written to the app's store, ending 12 h
// ago, and a model trained on it over the admin API. Screenshots are kept in a temporary folder
// printed at the end.

const CHROMIUM = findChromium();
if (!CHROMIUM && process.env.READNEXT_REQUIRE_BROWSER)
  throw new Error('READNEXT_REQUIRE_BROWSER is set (CI) but no chromium binary was found');
if (!CHROMIUM) console.warn('models.browser.test.ts skipped: no chromium binary (see test/adapters/web/helpers.ts findChromium)');

const HOUR = 3_600_000;
let live: LiveApp;
let context: BrowserContext;
let trained: { version: number; metrics: { auc: number } };
const profile = mkdtempSync(join(tmpdir(), 'readnext-models-chromium-'));
const shots = mkdtempSync(join(tmpdir(), 'readnext-models-shots-'));

beforeAll(async () => {
  if (!CHROMIUM) return;
  await buildDashboard();
  live = await liveApp();
  const now = Date.now();
  await loadModelLog(live.services.storage, modelLog({ start: now - 48 * HOUR, hours: 36 }), now - 72 * HOUR);
  const res = await live.app.inject({ method: 'POST', url: '/v1/admin/models/train', headers: admin, payload: { placement: 'read-next' } });
  expect(res.statusCode, res.body).toBe(200);
  trained = res.json();
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
  });
}, 120_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await live?.close();
  rmSync(profile, { recursive: true, force: true });
  if (CHROMIUM) console.log(`dashboard models screenshots: ${shots}`);
});

/** Console errors, page errors, failed requests and error answers (the sign-in's 401 aside). */
function watch(page: Page) {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`answer: ${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  return () =>
    problems.filter((p) => p !== 'answer: 401 GET /v1/dashboard/session' && !/^console: Failed to load resource: .* status of 401/.test(p));
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

describe.skipIf(!CHROMIUM)('the Models page in Chromium', () => {
  it('lists the trained model with its AUC, trains another, and deploys one as a shadow', { timeout: 120_000 }, async () => {
    const page = context.pages()[0] ?? (await context.newPage());
    const unexpected = watch(page);
    await page.goto(`${live.url}/dashboard/`);
    await page.getByLabel('Admin key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Dashboard pages' }).waitFor();

    // 1. The registry: the model of the setup, its AUC as the API gave it.
    await page.getByRole('link', { name: 'Models' }).click();
    await page.getByRole('heading', { level: 1, name: 'Models' }).waitFor();
    const row = page.locator(`table.models tr[data-version="${trained.version}"]`);
    await row.waitFor({ timeout: 20_000 });
    expect(await row.getByTestId('auc').textContent()).toBe(trained.metrics.auc.toLocaleString('en-GB', { maximumFractionDigits: 4 }));
    expect(trained.metrics.auc).toBeGreaterThan(0.58); // 0.63 on this log, the HTTP test says why
    expect(await row.locator('th').textContent()).toContain(`model@${trained.version}`);
    expect(await row.textContent()).toContain('read-next');
    await shot(page, '1-models');

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
    await shot(page, '2-models-deploy-confirm');
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
    await shot(page, '3-models-deployed');

    // 4. Readable at phone width (the table scrolls inside its box).
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(page, '4-models-390px');
    expect(unexpected()).toEqual([]);
  });
});
