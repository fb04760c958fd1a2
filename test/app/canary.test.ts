/**
 * Canary guardrails: the pure evaluation, then the whole loop through the HTTP app (SQLite in
 * memory, clock fixed at T0): start a canary, serve, check, automatic rollback, audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateGuardrails } from '../../src/app/canary.js';
import type { Guardrails } from '../../src/core/recommend/placement.js';
import { admin, testApp, type TestApp } from '../helpers/app.js';
import { T0 } from '../helpers/events.js';

const G: Guardrails = { maxErrorRate: 0.05, maxP99LatencyMs: 50, minCtrRatio: 0.8, minImpressions: 100, minResponses: 10 };
const ms = (...v: number[]) => v;
const tenFast = ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
const quiet = { impressions: 0, clicks: 0 };

describe('evaluateGuardrails', () => {
  it('a healthy canary breaches nothing', () => {
    const r = evaluateGuardrails(G, { latencies: tenFast, faults: 0, impressions: 200, clicks: 10 }, { impressions: 200, clicks: 10 });
    expect(r).toEqual({ responses: 10, errorRate: 0, p99LatencyMs: 10, canaryCtr: 0.05, liveCtr: 0.05, breaches: [] });
  });

  it('breaches the error-rate ceiling (strictly above it)', () => {
    const r = evaluateGuardrails(G, { latencies: tenFast, faults: 2, ...quiet }, quiet);
    expect(r.errorRate).toBe(0.2);
    expect(r.breaches).toEqual(['error rate 0.2000 > 0.05']);
    // Exactly at the ceiling (1 of 20 = 0.05) is allowed.
    expect(evaluateGuardrails(G, { latencies: [...tenFast, ...tenFast], faults: 1, ...quiet }, quiet).breaches).toEqual([]);
  });

  it('breaches the p99 latency ceiling (nearest rank: of 10 responses, p99 is the slowest)', () => {
    const r = evaluateGuardrails(G, { latencies: [...tenFast.slice(0, 9), 200], faults: 0, ...quiet }, quiet);
    expect(r.p99LatencyMs).toBe(200);
    expect(r.breaches).toEqual(['p99 latency 200.00 ms > 50 ms']);
  });

  it('breaches the CTR guardrail only when an always-valid test is confident the canary is below minCtrRatio × live', () => {
    // 200/20,000 = 1% against 1,000/20,000 = 5%: a relative change of −80%, far below −20% (minCtrRatio 0.8).
    const r = evaluateGuardrails(
      G,
      { latencies: tenFast, faults: 0, impressions: 20_000, clicks: 200 },
      { impressions: 20_000, clicks: 1000 },
    );
    expect(r.breaches).toHaveLength(1);
    expect(r.breaches[0]).toMatch(/^CTR 0\.0100 confidently below 0\.8 × live 0\.0500/);
    // The same observed ratio on 100 impressions is noise, not evidence: no rollback.
    expect(
      evaluateGuardrails(G, { latencies: tenFast, faults: 0, impressions: 100, clicks: 1 }, { impressions: 100, clicks: 5 }).breaches,
    ).toEqual([]);
    // Equal CTRs on a large sample: no breach.
    expect(
      evaluateGuardrails(G, { latencies: tenFast, faults: 0, impressions: 20_000, clicks: 1000 }, { impressions: 20_000, clicks: 1000 })
        .breaches,
    ).toEqual([]);
  });

  it('reports every breach at once', () => {
    const r = evaluateGuardrails(
      G,
      { latencies: [...tenFast.slice(0, 9), 200], faults: 5, impressions: 20_000, clicks: 0 },
      { impressions: 20_000, clicks: 1000 },
    );
    expect(r.breaches).toHaveLength(3);
  });

  it('does not check error rate and latency below minResponses, nor CTR below minImpressions on either side', () => {
    const nine = tenFast.slice(0, 9).map((x) => x * 1000);
    const r = evaluateGuardrails(G, { latencies: nine, faults: 9, ...quiet }, quiet);
    expect(r).toMatchObject({ responses: 9, errorRate: 1, p99LatencyMs: 9000, breaches: [] });
    expect(
      evaluateGuardrails(G, { latencies: tenFast, faults: 0, impressions: 99, clicks: 0 }, { impressions: 1000, clicks: 100 }).breaches,
    ).toEqual([]);
    expect(
      evaluateGuardrails(G, { latencies: tenFast, faults: 0, impressions: 1000, clicks: 0 }, { impressions: 99, clicks: 50 }).breaches,
    ).toEqual([]);
    // A live CTR of 0 gives nothing to compare against.
    expect(
      evaluateGuardrails(G, { latencies: tenFast, faults: 0, impressions: 1000, clicks: 0 }, { impressions: 1000, clicks: 0 }).breaches,
    ).toEqual([]);
  });

  it('no responses: zero rates, no CTR', () => {
    expect(evaluateGuardrails({ ...G, minResponses: 0 }, { latencies: [], faults: 0, ...quiet }, quiet)).toEqual({
      responses: 0,
      errorRate: 0,
      p99LatencyMs: 0,
      canaryCtr: null,
      liveCtr: null,
      breaches: [],
    });
  });
});

describe('a canary through the app, rolled back by its guardrail', () => {
  let t: TestApp;
  const HOUR = 3_600_000;
  const P = 'canaried';

  beforeAll(async () => {
    t = await testApp();
    const articles = ['world', 'sport', 'culture'].flatMap((section, s) =>
      [1, 2, 3].map((i) => ({
        id: `${section}-${i}`,
        title: `${section} ${i}`,
        section,
        publishedAt: new Date(T0 - (s * 3 + i) * HOUR).toISOString(),
      })),
    );
    expect((await t.app.inject({ method: 'POST', url: '/v1/admin/articles', headers: admin, payload: { articles } })).statusCode).toBe(200);
    const put = await t.app.inject({
      method: 'PUT',
      url: `/v1/admin/deployments/${P}`,
      headers: admin,
      payload: { live: { kind: 'latest', version: '1' } },
    });
    expect(put.statusCode).toBe(200);
  });
  afterAll(async () => t.close());

  const serve = async (reader: string) => {
    const res = await t.app.inject({ method: 'GET', url: `/v1/recommendations?placement=${P}&article=world-1&reader=${reader}` });
    expect(res.statusCode).toBe(200);
    return res.json() as { recommId: string; arm: string | null; recommender: { kind: string; version: string }; items: unknown[] };
  };
  const deployment = async () => (await t.app.inject({ method: 'GET', url: `/v1/admin/deployments/${P}`, headers: admin })).json();

  it('refuses a canary without guardrails (400 missing_guardrails), or with one missing', async () => {
    const none = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/deployments/${P}/canary`,
      headers: admin,
      payload: { recommender: { kind: 'popular', version: '1' }, percent: 10 },
    });
    expect(none.statusCode).toBe(400);
    expect(none.json().error).toMatchObject({ code: 'missing_guardrails', field: 'canary.guardrails' });
    const partial = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/deployments/${P}/canary`,
      headers: admin,
      payload: { recommender: { kind: 'popular', version: '1' }, percent: 10, guardrails: { maxErrorRate: 0.1, maxP99LatencyMs: 100 } },
    });
    expect(partial.json().error).toMatchObject({ code: 'missing_guardrails', field: 'canary.guardrails.minCtrRatio' });
    expect((await deployment()).canary).toBeNull();
  });

  it('a breached p99 latency ceiling rolls the canary back; later requests never reach it', async () => {
    // 1. Start a canary on half the readers with a latency ceiling no slate can meet (1 µs), checked from 5 responses.
    const start = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/deployments/${P}/canary`,
      headers: { ...admin, 'x-readnext-actor': 'dana' },
      payload: {
        recommender: { kind: 'latest', version: '2', params: { sameSection: true } },
        percent: 50,
        guardrails: { maxErrorRate: 0.5, maxP99LatencyMs: 0.001, minCtrRatio: 0, minResponses: 5 },
        reason: 'try same-section latest',
      },
    });
    expect(start.statusCode).toBe(200);
    const started = start.json();
    expect(started.canary).toMatchObject({ percent: 50, startedTs: T0, recommender: { kind: 'latest', version: '2' } });

    // 2. Distinct readers: about half land in the canary, each of them every time (sticky).
    const readers = Array.from({ length: 40 }, (_, i) => `canary-reader-${i}`);
    const first = await Promise.all(readers.map(serve));
    const inCanary = readers.filter((_, i) => first[i]!.arm === 'canary');
    expect(inCanary.length).toBeGreaterThanOrEqual(5);
    expect(inCanary.length).toBeLessThan(readers.length);
    for (const r of first)
      expect(r.recommender).toEqual(r.arm === 'canary' ? { kind: 'latest', version: '2' } : { kind: 'latest', version: '1' });
    for (const r of inCanary) expect((await serve(r)).arm).toBe('canary');

    // 3. Check now, as an operator would (without waiting for the periodic check).
    const check = await t.app.inject({ method: 'POST', url: '/v1/admin/canaries/check', headers: admin });
    expect(check.statusCode).toBe(200);
    const result = (check.json().items as { placement: string }[]).find((c) => c.placement === P);
    expect(result).toMatchObject({ rolledBack: true, breaches: [expect.stringMatching(/^p99 latency .* ms > 0\.001 ms$/)] });
    expect((result as unknown as { responses: number }).responses).toBeGreaterThanOrEqual(5);

    // 4. The deployment lost its canary in a new revision, audited as the guardrail's doing, with the breach as the reason.
    const after = await deployment();
    expect(after.canary).toBeNull();
    expect(after.revision).toBe(started.revision + 1);
    const audit = (await t.app.inject({ method: 'GET', url: `/v1/admin/audit?target=placement:${P}`, headers: admin })).json().items;
    expect(audit[0]).toMatchObject({
      actor: 'guardrail',
      action: 'canary rollback',
      reason: expect.stringMatching(/^canary latest@2 rolled back: p99 latency/),
    });
    expect(audit[1]).toMatchObject({ actor: 'dana', action: 'start canary', reason: 'try same-section latest' });

    // 5. From now on nobody is served by the canary, its former readers included.
    for (const r of [...readers, ...readers.map((x) => `${x}-new`)]) {
      const res = await serve(r);
      expect(res.arm).not.toBe('canary');
      expect(res.recommender).toEqual({ kind: 'latest', version: '1' });
    }

    // 6. A second check finds nothing left to roll back.
    const again = (await t.app.inject({ method: 'POST', url: '/v1/admin/canaries/check', headers: admin })).json().items as {
      placement: string;
    }[];
    expect(again.find((c) => c.placement === P)).toBeUndefined();
  });
});
