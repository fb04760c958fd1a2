import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/adapters/http/app.js';
import { demoSite } from '../../../src/adapters/web/site.js';
import { loadConfig } from '../../../src/config/config.js';
import { appDeps, openServices, systemClock, type Services } from '../../../src/main/services.js';
import { builtSdk } from '../../helpers/sdk.js';
import { admin, ADMIN_KEY, INGEST_KEY } from '../../helpers/app.js';
import { CHROMIUM_ARGS, eventually, findChromium, seedArticles, storedEvents } from './helpers.js';

// Issue 14, item 2, with the SDK's own calls: the demo site calls readnext.pageView() before
// readnext.widget(), so the page view of the page that makes the exposure is sent (and may be
// received) before the exposure exists. It must count in the report: pages per session of a
// reader who opened one article is 1, not 0. Real headless Chromium against the real app.

const CHROMIUM = findChromium();
if (!CHROMIUM && process.env.READNEXT_REQUIRE_BROWSER)
  throw new Error('READNEXT_REQUIRE_BROWSER is set (CI) but no chromium binary was found');
if (!CHROMIUM) console.warn('report.browser.test.ts skipped: no chromium binary');

let services: Services;
let close: () => Promise<void>;
let url: string;
let app: Awaited<ReturnType<typeof createApp>>;
const dirs: string[] = [];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  if (!CHROMIUM) return;
  // Lag 0: the rollups may take the page view before its reader's exposure is written.
  const config = loadConfig({ db: 'sqlite::memory:', adminKey: ADMIN_KEY, ingestKey: INGEST_KEY, logLevel: 'silent', rollupLagMs: 0 }, {});
  services = await openServices(config, { clock: systemClock });
  app = await createApp(
    appDeps(services, [demoSite({ articles: services.storage, siteName: 'The Report Times', sdkFile: await builtSdk() })]),
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  if (addr === null || typeof addr !== 'object') throw new Error('not listening');
  url = `http://127.0.0.1:${addr.port}`;
  close = async () => {
    await app.close();
    await services.close();
  };
  const now = Date.now();
  await seedArticles(
    app,
    Array.from({ length: 8 }, (_, i) => ({
      id: `p${i + 1}`,
      title: `Story ${i + 1}`,
      section: 'world',
      lead: `Lead ${i + 1}.`,
      body: 'Text.',
      publishedAt: new Date(now - (i + 1) * 10 * 60_000).toISOString(),
    })),
  );
  const created = await app.inject({
    method: 'POST',
    url: '/v1/admin/experiments',
    headers: admin,
    payload: {
      id: 'sdk-order',
      placement: 'read-next',
      layer: 'sdk',
      arms: [
        { name: 'control', recommender: { kind: 'none', version: '1' } },
        { name: 'b', recommender: { kind: 'latest', version: '1' } },
      ],
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  expect((await app.inject({ method: 'POST', url: '/v1/admin/experiments/sdk-order/start', headers: admin })).statusCode).toBe(200);
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await close?.();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!CHROMIUM)('the report over what the SDK really sends', () => {
  it('keeps the page view of the page that made the exposure (SDK call order: pageView, then widget)', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'readnext-chromium-'));
    dirs.push(dir);
    const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM!, headless: true, args: CHROMIUM_ARGS });
    contexts.push(context);
    const page = context.pages()[0] ?? (await context.newPage());

    // 1. The reader opens one article; the SDK sends its page view and asks for the widget (the exposure).
    await page.goto(`${url}/articles/p2`);
    await page.evaluate(() => (window as unknown as { readnext: { flush(): void } }).readnext.flush());
    const pv = await eventually('the page view stored', async () => (await storedEvents(services)).find((e) => e.type === 'page_view'));
    const readerId = pv.readerId;

    // 2. The exposure is written by the record writer; then the rollups run (lag 0) and the report is read.
    await services.recordWriter.flush();
    const exposures = await services.storage.listExposures('sdk-order');
    expect(exposures.map((e) => e.readerId)).toEqual([readerId]);
    const arm = exposures[0]!.arm;
    const res = await app.inject({ method: 'GET', url: '/v1/admin/experiments/sdk-order/report', headers: admin });
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json() as { metrics: { metric: string; arms: { arm: string; n: number; value: number | null }[] }[] };
    const pps = report.metrics.find((m) => m.metric === 'pages_per_session')!;
    // 3. One page view in one session: 1 (it was 0 when the page view before the exposure was dropped).
    expect(pps.arms.find((a) => a.arm === arm)).toEqual({ arm, n: 1, value: 1, se: 0 });
  });
});
