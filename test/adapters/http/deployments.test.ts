/**
 * Deploy on demand through the HTTP API (real app, SQLite in memory, clock fixed at T0): hot live
 * changes, shadows, A/B experiments and their phases, interleaving, rollback and the audit log,
 * and every bad input with its stable code. Each test works on its own placement and layer so the
 * tests do not see each other's traffic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignArm, type Experiment } from '../../../src/core/experiments/experiment.js';
import { admin, testApp, type TestApp } from '../../helpers/app.js';
import { click, read, T0 } from '../../helpers/events.js';

let t: TestApp;
const HOUR = 3_600_000;

const article = (id: string, section: string, hoursAgo: number) => ({
  id,
  title: `Title ${id}`,
  url: `https://news.example/${id}`,
  section,
  publishedAt: new Date(T0 - hoursAgo * HOUR).toISOString(),
});

beforeAll(async () => {
  t = await testApp();
  // Newest first: c1, w1, s1, w2, w3, w4, s2, c2.
  const articles = [
    article('w1', 'world', 1),
    article('w2', 'world', 2),
    article('w3', 'world', 3),
    article('w4', 'world', 4),
    article('s1', 'sport', 1.5),
    article('s2', 'sport', 5),
    article('c1', 'culture', 0.5),
    article('c2', 'culture', 6),
  ];
  const res = await t.app.inject({ method: 'POST', url: '/v1/admin/articles', headers: admin, payload: { articles } });
  expect(res.statusCode).toBe(200);
});
afterAll(async () => t.close());

interface Rec {
  recommId: string;
  experiment: string | null;
  phase: number | null;
  arm: string | null;
  hashVersion: number | null;
  recommender: { kind: string; version: string };
  items: { articleId: string; position: number; team?: string }[];
}
interface Serve {
  recommId: string;
  shadow: boolean;
  arm: string | null;
  experiment: string | null;
  phase: number | null;
  hashVersion: number | null;
  recommenderKind: string;
  recommenderVersion: string;
  slate: { articleId: string; position: number; team?: string | null }[];
}

const rec = async (qs: string): Promise<Rec> => {
  const res = await t.app.inject({ method: 'GET', url: `/v1/recommendations?${qs}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};
const ids = (r: { items: { articleId: string }[] } | { slate: { articleId: string }[] }) =>
  ('items' in r ? r.items : r.slate).map((i) => i.articleId);
const adminCall = (
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) => t.app.inject({ method, url, headers: { ...admin, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });
const serves = async (recommId: string): Promise<Serve[]> => (await adminCall('GET', `/v1/admin/serves?recommId=${recommId}`)).json().items;
/** Polls until the live and every shadow record of a response are stored (shadows run after the response, in setImmediate). */
async function servesOf(recommId: string, count: number): Promise<Serve[]> {
  let got: Serve[] = [];
  await expect.poll(async () => (got = await serves(recommId)).length, { timeout: 5_000, interval: 10 }).toBe(count);
  return got;
}
async function placement(name: string, config: Record<string, unknown>): Promise<void> {
  const res = await adminCall('PUT', `/v1/admin/deployments/${name}`, config);
  expect(res.statusCode, res.body).toBe(200);
}
async function postEvents(events: unknown[]): Promise<void> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/events', payload: { events } });
  expect(res.json().accepted, res.body).toBe(events.length);
}
const experiment = async (id: string): Promise<Experiment> => (await adminCall('GET', `/v1/admin/experiments/${id}`)).json();

describe('live changes are hot', () => {
  it('POST /deployments/:p/live changes the recommender of the very next request, without restart', async () => {
    await placement('hot', { live: { kind: 'latest', version: '1' } });
    expect((await rec('placement=hot&article=w1')).recommender).toEqual({ kind: 'latest', version: '1' });
    const res = await adminCall('POST', '/v1/admin/deployments/hot/live', {
      recommender: { kind: 'popular', version: '2' },
      reason: 'popularity is back',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'hot', revision: 2, live: { kind: 'popular', version: '2' } });
    expect((await rec('placement=hot&article=w1')).recommender).toEqual({ kind: 'popular', version: '2' });
  });
});

describe('shadows', () => {
  // Live: the latest of the article's section, no fallbacks. Shadow: the latest of all sections.
  // For w1 and k = 3: live [w2, w3, w4]; shadow [c1, s1, w2] (c1 and s1 are shadow-only).
  const config = { live: { kind: 'latest', version: '1', params: { sameSection: true } }, fallbacks: [] };
  const shadow = { kind: 'latest', version: 'all' };

  it("a shadow's slate is recorded for the same recommId and never reaches the response", async () => {
    await placement('shadowed', config);
    const add = await adminCall('POST', '/v1/admin/deployments/shadowed/shadows', { recommender: shadow });
    expect(add.statusCode).toBe(200);
    expect(add.json().shadows).toEqual([shadow]);

    const body = await rec('placement=shadowed&article=w1&k=3&reader=sh-r1&session=sh-s1');
    expect(body.recommender).toEqual({ kind: 'latest', version: '1' });
    expect(ids(body)).toEqual(['w2', 'w3', 'w4']);
    const raw = JSON.stringify(body);
    for (const shadowOnly of ['c1', 's1', 'all']) expect(raw).not.toContain(`"${shadowOnly}"`);
    expect(raw).not.toMatch(/"shadows?"\s*:/);

    const rows = await servesOf(body.recommId, 2);
    const live = rows.find((s) => !s.shadow)!;
    const sh = rows.find((s) => s.shadow)!;
    expect(live).toMatchObject({ recommenderKind: 'latest', recommenderVersion: '1' });
    expect(ids(live)).toEqual(ids(body));
    expect(sh).toMatchObject({
      recommId: body.recommId,
      shadow: true,
      recommenderKind: 'latest',
      recommenderVersion: 'all',
      arm: null,
      experiment: null,
    });
    expect(ids(sh)).toEqual(['c1', 's1', 'w2']);

    // Removing the shadow stops the shadow records.
    expect((await adminCall('DELETE', '/v1/admin/deployments/shadowed/shadows/latest/all')).statusCode).toBe(200);
    const next = await rec('placement=shadowed&article=w1&k=3&reader=sh-r1&session=sh-s1');
    await new Promise((r) => setImmediate(r));
    expect(await servesOf(next.recommId, 1)).toHaveLength(1);
  });

  it('the shadow report gives latency, errors, overlap and would-have-clicked', async () => {
    await placement('reported', { ...config, shadows: [shadow] });
    const body = await rec('placement=reported&article=w1&k=3&reader=rep-r1&session=rep-s1');
    await servesOf(body.recommId, 2);
    // After the response, in the same session: c1 and s1 (shadow slate only), w3 (live slate only);
    // the current article w1 and a read from before the response do not count.
    const same = { readerId: 'rep-r1', sessionId: 'rep-s1' };
    await postEvents([
      read(T0 + 1_000, { ...same, articleId: 'c1' }),
      read(T0 + 2_000, { ...same, articleId: 's1' }),
      read(T0 + 3_000, { ...same, articleId: 'w3' }),
      read(T0 + 500, { ...same, articleId: 'w1' }),
      read(T0 - 60_000, { ...same, articleId: 'w4' }),
      read(T0 + 4_000, { readerId: 'rep-r2', sessionId: 'rep-other', articleId: 'c1' }),
    ]);

    const res = await adminCall('GET', '/v1/admin/shadow-report?placement=reported');
    expect(res.statusCode).toBe(200);
    const report = res.json();
    expect(report.placement).toBe('reported');
    expect(report.live).toEqual([
      {
        kind: 'latest',
        version: '1',
        responses: 1,
        errorRate: 0,
        latencyMs: { mean: expect.any(Number), p50: expect.any(Number), p99: expect.any(Number) },
      },
    ]);
    expect(report.shadows).toHaveLength(1);
    const s = report.shadows[0];
    expect(s.shadow).toMatchObject({ kind: 'latest', version: 'all', responses: 1, errorRate: 0 });
    expect(s.shadow.latencyMs.p99).toBeGreaterThanOrEqual(0);
    expect(s.pairs).toBe(1);
    // Jaccard@3: {c1, s1, w2} ∩ {w2, w3, w4} = {w2}, ∪ has 5 → 0.2. RBO worked in shadow-metrics.test.ts → 0.27.
    expect(s.jaccard).toBeCloseTo(0.2, 12);
    expect(s.rbo).toBeCloseTo(0.27, 12);
    // Next reads c1, s1, w3: the shadow slate held 2 of 3, the live slate 1 of 3.
    expect(s.nextReads).toBe(3);
    expect(s.shadowHitRate).toBeCloseTo(2 / 3, 12);
    expect(s.liveHitRate).toBeCloseTo(1 / 3, 12);

    const unknown = await adminCall('GET', '/v1/admin/shadow-report?placement=nope');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('unknown_placement');

    // A day that does not exist is refused, not rolled over into the next month.
    const impossible = await adminCall('GET', '/v1/admin/shadow-report?placement=reported&since=2026-11-31T00:00:00Z');
    expect(impossible.statusCode).toBe(400);
    expect(impossible.json().error).toMatchObject({ code: 'invalid_field', field: 'since' });
  });
});

describe('an A/B experiment from draft to stop', () => {
  const P = 'abtest';
  const ID = 'ab-1';
  const readers = Array.from({ length: 40 }, (_, i) => `ab-r${i}`);
  const first = new Map<string, string>();
  const q = (reader: string) => `placement=${P}&article=w1&k=3&reader=${reader}&session=${reader}-s`;
  const exposures = async () =>
    (await adminCall('GET', `/v1/admin/exposures?experiment=${ID}`)).json().items as {
      readerId: string;
      arm: string;
      phase: number;
      hashVersion: number;
      exposedAt: string;
    }[];

  beforeAll(async () => placement(P, { live: { kind: 'latest', version: '1' } }));

  it('1. create: 201, a draft that serves nobody yet', async () => {
    const res = await adminCall('POST', '/v1/admin/experiments', {
      id: ID,
      placement: P,
      layer: 'ab',
      reason: 'does a widget beat no widget?',
      arms: [
        { name: 'control', recommender: { kind: 'none', version: '1' }, weight: 0.5 },
        { name: 'treatment', recommender: { kind: 'latest', version: 'ab' }, weight: 0.5 },
      ],
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      id: ID,
      status: 'draft',
      phase: 0,
      hashVersion: 2,
      layer: 'ab',
      createdAt: new Date(T0).toISOString(),
      startedAt: null,
    });
    expect((await rec(q('ab-r0'))).experiment).toBeNull();
    expect(await exposures()).toEqual([]);
  });

  it('2. start: readers get experiment, phase 1, a sticky arm and hash v2; one exposure per reader', async () => {
    const res = await adminCall('POST', `/v1/admin/experiments/${ID}/start`, { reason: 'go' }, { 'x-readnext-actor': 'erin' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'running',
      phase: 1,
      startedAt: new Date(T0).toISOString(),
      phases: [{ phase: 1, weights: [0.5, 0.5], coverage: 1, reRandomised: false }],
    });
    for (const r of readers) {
      const a = await rec(q(r));
      const b = await rec(q(r));
      expect(a).toMatchObject({ experiment: ID, phase: 1, hashVersion: 2, arm: expect.stringMatching(/^(control|treatment)$/) });
      expect(b.arm).toBe(a.arm);
      expect(a.recommender).toEqual(a.arm === 'control' ? { kind: 'none', version: '1' } : { kind: 'latest', version: 'ab' });
      first.set(r, a.arm!);
    }
    expect(new Set(first.values())).toEqual(new Set(['control', 'treatment']));
    const ex = await exposures();
    expect(ex).toHaveLength(readers.length);
    for (const e of ex) expect(e).toMatchObject({ phase: 1, hashVersion: 2, arm: first.get(e.readerId) });
    expect(new Set(ex.map((e) => e.readerId))).toEqual(new Set(readers));
  });

  it('3. the "none" arm shows nothing, and still records its exposure and serve row', async () => {
    const reader = readers.find((r) => first.get(r) === 'control')!;
    const body = await rec(q(reader));
    expect(body.items).toEqual([]);
    expect(await serves(body.recommId)).toEqual([
      expect.objectContaining({
        experiment: ID,
        phase: 1,
        arm: 'control',
        hashVersion: 2,
        recommenderKind: 'none',
        shadow: false,
        slate: [],
      }),
    ]);
    expect((await exposures()).filter((e) => e.readerId === reader)).toHaveLength(1);
  });

  it('4. anonymous and opted-out readers are served live, never assigned', async () => {
    const anon = await rec(`placement=${P}&article=w1`);
    expect(anon).toMatchObject({
      experiment: null,
      phase: null,
      arm: null,
      hashVersion: null,
      recommender: { kind: 'latest', version: '1' },
    });
    const out = await rec(`${q('ab-optout')}&optout=1`);
    expect(out.experiment).toBeNull();
    expect((await exposures()).some((e) => e.readerId === 'ab-optout')).toBe(false);
  });

  it('5. PATCH weights opens phase 2: exposed readers keep their arm, new readers follow the new weights', async () => {
    const res = await adminCall('PATCH', `/v1/admin/experiments/${ID}`, { weights: [0.2, 0.8], reason: 'ramp up' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ phase: 2, phases: [{ phase: 1 }, { phase: 2, weights: [0.2, 0.8], reRandomised: false }] });
    for (const r of readers) expect(await rec(q(r))).toMatchObject({ phase: 2, arm: first.get(r) });
    const exp = await experiment(ID);
    for (let i = 0; i < 50; i++) {
      const r = `ab-new${i}`;
      expect((await rec(q(r))).arm).toBe(assignArm(exp, r)!.name);
    }
    // Exposures are per phase: the 40 readers again in phase 2, with their phase-1 arm.
    const phase2 = (await exposures()).filter((e) => e.phase === 2 && readers.includes(e.readerId));
    expect(phase2).toHaveLength(readers.length);
    for (const e of phase2) expect(e.arm).toBe(first.get(e.readerId));
  });

  it('6. PATCH with reRandomise opens phase 3 where assignment follows the new seed', async () => {
    const res = await adminCall('PATCH', `/v1/admin/experiments/${ID}`, { reRandomise: true });
    expect(res.json()).toMatchObject({ phase: 3, phases: [{}, {}, { phase: 3, reRandomised: true }] });
    const exp = await experiment(ID);
    let moved = 0;
    for (const r of readers) {
      const got = await rec(q(r));
      expect(got.arm).toBe(assignArm(exp, r)!.name);
      if (got.arm !== first.get(r)) moved++;
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('7. weights off by more than 0.001 are refused and open no phase', async () => {
    const res = await adminCall('PATCH', `/v1/admin/experiments/${ID}`, { weights: [0.5, 0.6] });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'invalid_weights', field: 'weights' });
    expect((await experiment(ID)).phase).toBe(3);
  });

  it('8. stop: readers are served live again; stopping or starting again is invalid_state', async () => {
    const res = await adminCall('POST', `/v1/admin/experiments/${ID}/stop`, { reason: 'enough data' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'stopped', stoppedAt: new Date(T0).toISOString() });
    expect(await rec(q(readers[0]!))).toMatchObject({ experiment: null, arm: null, recommender: { kind: 'latest', version: '1' } });
    for (const action of ['stop', 'start']) {
      const again = await adminCall('POST', `/v1/admin/experiments/${ID}/${action}`);
      expect(again.statusCode, action).toBe(409);
      expect(again.json().error.code, action).toBe('invalid_state');
    }
    const audit = (await adminCall('GET', `/v1/admin/audit?target=experiment:${ID}`)).json().items as {
      action: string;
      actor: string;
      reason: string | null;
    }[];
    expect(audit.map((a) => a.action)).toEqual(['stop', 'new phase 3', 'new phase 2', 'start', 'create']);
    expect(audit.find((a) => a.action === 'start')).toMatchObject({ actor: 'erin', reason: 'go' });
    expect(audit.find((a) => a.action === 'new phase 2')).toMatchObject({ actor: 'admin-api', reason: 'ramp up' });
  });
});

describe('an interleaving experiment', () => {
  const P = 'inter';
  const ID = 'il-1';
  const teams = ['section', 'global'];

  it('items carry their team; clicks give a per-reader preference with a sign test', async () => {
    await placement(P, { live: { kind: 'latest', version: '1' }, fallbacks: [] });
    const created = await adminCall('POST', '/v1/admin/experiments', {
      id: ID,
      placement: P,
      kind: 'interleaving',
      layer: 'il',
      arms: [
        { name: 'section', recommender: { kind: 'latest', version: 's', params: { sameSection: true } } },
        { name: 'global', recommender: { kind: 'latest', version: 'g' } },
      ],
    });
    expect(created.statusCode).toBe(201);
    expect((await adminCall('POST', `/v1/admin/experiments/${ID}/start`)).statusCode).toBe(200);

    // Ten readers; nine click a "section" item, one a "global" item.
    const clicks = [];
    for (let i = 0; i < 10; i++) {
      const reader = `il-r${i}`;
      const body = await rec(`placement=${P}&article=w1&k=4&reader=${reader}&session=${reader}-s`);
      expect(body).toMatchObject({ experiment: ID, phase: 1, arm: 'interleaved', hashVersion: 2 });
      expect(body.recommender.kind).toBe('interleaving');
      expect(body.items).toHaveLength(4);
      for (const it of body.items) expect(teams).toContain(it.team);
      expect(new Set(body.items.map((x) => x.team))).toEqual(new Set(teams));
      // "section" items are world articles (the current one's section); "global" ones may be any.
      for (const it of body.items.filter((x) => x.team === 'section')) expect(it.articleId).toMatch(/^w/);
      const [row] = await servesOf(body.recommId, 1);
      expect(row!.slate.map((s) => s.team)).toEqual(body.items.map((x) => x.team));
      const pick = body.items.find((x) => x.team === (i < 9 ? 'section' : 'global'))!;
      clicks.push(
        click(T0 + 1_000, {
          readerId: reader,
          sessionId: `${reader}-s`,
          recommId: body.recommId,
          placement: P,
          articleId: pick.articleId,
          position: pick.position,
        }),
      );
    }
    await postEvents(clicks);

    const res = await adminCall('GET', `/v1/admin/experiments/${ID}/interleaving`);
    expect(res.statusCode).toBe(200);
    const out = res.json();
    expect(out).toMatchObject({
      experiment: ID,
      phase: 1,
      teams,
      readersPreferringA: 9,
      readersPreferringB: 1,
      readersTied: 0,
      clicksA: 9,
      clicksB: 1,
    });
    expect(out.preference).toBeCloseTo(0.8, 12);
    expect(out.pValue).toBeCloseTo(0.021484375, 12); // n = 10, 1 vs 9: 2·(1 + 10)/1024

    const exposed = (await adminCall('GET', `/v1/admin/exposures?experiment=${ID}`)).json().items as { arm: string }[];
    expect(exposed).toHaveLength(10);
    expect(new Set(exposed.map((e) => e.arm))).toEqual(new Set(['interleaved']));
    expect((await adminCall('POST', `/v1/admin/experiments/${ID}/stop`)).statusCode).toBe(200);
  });

  it('an A/B experiment has no interleaving report (409 invalid_state); an unknown one is 404', async () => {
    const ab = await adminCall('GET', '/v1/admin/experiments/ab-1/interleaving');
    expect(ab.statusCode).toBe(409);
    expect(ab.json().error.code).toBe('invalid_state');
    const none = await adminCall('GET', '/v1/admin/experiments/nope/interleaving');
    expect(none.statusCode).toBe(404);
    expect(none.json().error.code).toBe('not_found');
  });
});

describe('rollback, history and audit', () => {
  const P = 'rb';
  const v1 = { live: { kind: 'latest', version: '1' }, fallbacks: [{ kind: 'popular', version: '1' }] };
  const v2 = { live: { kind: 'popular', version: '2' }, fallbacks: [] };

  it('v1 → v2 → rollback restores v1 as revision 3; --to picks any revision; history and audit say who, when, what and why', async () => {
    // 1. Deploy v1 (alice), then v2 (bob).
    expect(
      (await adminCall('PUT', `/v1/admin/deployments/${P}`, { ...v1, reason: 'first cut' }, { 'x-readnext-actor': 'alice' })).json()
        .revision,
    ).toBe(1);
    expect(
      (await adminCall('PUT', `/v1/admin/deployments/${P}`, { ...v2, reason: 'try popular' }, { 'x-readnext-actor': 'bob' })).json()
        .revision,
    ).toBe(2);
    expect((await rec(`placement=${P}&article=w1`)).recommender).toEqual({ kind: 'popular', version: '2' });

    // 2. Roll back (carol): v1's config comes back as revision 3, served at once.
    const rb = await adminCall(
      'POST',
      `/v1/admin/deployments/${P}/rollback`,
      { reason: 'popular underperforms' },
      { 'x-readnext-actor': 'carol' },
    );
    expect(rb.statusCode).toBe(200);
    expect(rb.json()).toMatchObject({ name: P, revision: 3, ...v1 });
    expect((await rec(`placement=${P}&article=w1`)).recommender).toEqual({ kind: 'latest', version: '1' });

    // 3. --to an earlier revision: v2 again as revision 4.
    const to = await adminCall('POST', `/v1/admin/deployments/${P}/rollback`, { to: 2 }, { 'x-readnext-actor': 'carol' });
    expect(to.json()).toMatchObject({ revision: 4, ...v2 });

    // 4. --to an unknown revision: 404 unknown_version, nothing changes.
    const unknown = await adminCall('POST', `/v1/admin/deployments/${P}/rollback`, { to: 99 });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toMatchObject({ code: 'unknown_version', field: 'to' });
    expect((await adminCall('GET', `/v1/admin/deployments/${P}`)).json().revision).toBe(4);

    // 5. History, newest first: revision, when, who, why and the whole config.
    const history = (await adminCall('GET', `/v1/admin/deployments/${P}/history`)).json().items;
    expect(history.map((h: { revision: number }) => h.revision)).toEqual([4, 3, 2, 1]);
    expect(history[1]).toMatchObject({
      revision: 3,
      at: new Date(T0).toISOString(),
      actor: 'carol',
      reason: 'popular underperforms',
      config: { name: P, ...v1 },
    });
    expect(history[3]).toMatchObject({ revision: 1, actor: 'alice', reason: 'first cut', config: v1 });
    expect(history[1].config).toEqual(history[3].config);

    // 6. The audit log, newest first, append-only.
    const audit = (await adminCall('GET', `/v1/admin/audit?target=placement:${P}`)).json().items;
    expect(audit.map((a: { actor: string; action: string }) => `${a.actor}: ${a.action}`)).toEqual([
      'carol: rollback to 2',
      'carol: rollback to 1',
      'bob: deploy',
      'alice: create',
    ]);
    expect(audit[1]).toMatchObject({
      target: `placement:${P}`,
      reason: 'popular underperforms',
      at: new Date(T0).toISOString(),
      details: { revision: 3, config: v1 },
    });
  });

  it('a stale If-Match is a 409 conflict; of two concurrent edits from one revision, exactly one wins', async () => {
    await placement('cas', { live: { kind: 'latest', version: '1' } });
    const stale = await adminCall('PUT', '/v1/admin/deployments/cas', { live: { kind: 'popular', version: '1' } }, { 'if-match': '"0"' });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.code).toBe('conflict');
    const [a, b] = await Promise.all([
      adminCall('PUT', '/v1/admin/deployments/cas', { live: { kind: 'popular', version: 'a' } }, { 'if-match': '"1"' }),
      adminCall('PUT', '/v1/admin/deployments/cas', { live: { kind: 'popular', version: 'b' } }, { 'if-match': '"1"' }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);
    const winner = a.statusCode === 200 ? 'a' : 'b';
    expect((await adminCall('GET', '/v1/admin/deployments/cas')).json()).toMatchObject({ revision: 2, live: { version: winner } });
    expect((a.statusCode === 409 ? a : b).json().error.code).toBe('conflict');
  });
});

describe('bad input: 4xx with a stable code', () => {
  const arms = [
    { name: 'a', recommender: { kind: 'latest', version: '1' } },
    { name: 'b', recommender: { kind: 'popular', version: '1' } },
  ];

  beforeAll(async () => placement('bad', { live: { kind: 'latest', version: '1' } }));

  it('weights off by more than 0.001: 400 invalid_weights', async () => {
    const res = await adminCall('POST', '/v1/admin/experiments', {
      id: 'bad-w',
      placement: 'bad',
      arms: [
        { ...arms[0], weight: 0.5 },
        { ...arms[1], weight: 0.502 },
      ],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'invalid_weights', field: 'arms' });
    // Within tolerance they are normalised.
    const ok = await adminCall('POST', '/v1/admin/experiments', {
      id: 'ok-w',
      placement: 'bad',
      arms: [
        { ...arms[0], weight: 0.5 },
        { ...arms[1], weight: 0.5008 },
      ],
    });
    expect(ok.statusCode).toBe(201);
    const w = ok.json().arms.map((a: { weight: number }) => a.weight);
    expect(w[0] + w[1]).toBeCloseTo(1, 12);
  });

  it('an unknown recommender kind: 400 unknown_recommender, wherever it appears', async () => {
    const magic = { kind: 'magic', version: '1' };
    for (const [url, method, payload, field] of [
      [
        '/v1/admin/experiments',
        'POST',
        { id: 'bad-k', placement: 'bad', arms: [arms[0], { name: 'b', recommender: magic }] },
        'arms/1/recommender.kind',
      ],
      ['/v1/admin/deployments/bad/live', 'POST', { recommender: magic }, 'live.kind'],
      ['/v1/admin/deployments/bad/shadows', 'POST', { recommender: magic }, 'shadows/0.kind'],
      [
        '/v1/admin/deployments/bad/canary',
        'POST',
        { recommender: magic, percent: 5, guardrails: { maxErrorRate: 0.01, maxP99LatencyMs: 50, minCtrRatio: 0.8 } },
        'canary.recommender.kind',
      ],
    ] as const) {
      const res = await adminCall(method, url, payload);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error, url).toMatchObject({ code: 'unknown_recommender', field });
    }
    expect((await adminCall('GET', '/v1/admin/deployments/bad')).json()).toMatchObject({ revision: 1, shadows: [], canary: null });
  });

  it('overlapping experiments in one layer: starting the second is 409 overlapping_experiment; a disjoint slice may run', async () => {
    const mk = (id: string, range: [number, number]) =>
      adminCall('POST', '/v1/admin/experiments', { id, placement: 'bad', layer: 'ov', range, arms });
    expect((await mk('ov-1', [0, 0.6])).statusCode).toBe(201);
    expect((await mk('ov-2', [0.5, 1])).statusCode).toBe(201);
    expect((await mk('ov-3', [0.6, 1])).statusCode).toBe(201);
    expect((await adminCall('POST', '/v1/admin/experiments/ov-1/start')).statusCode).toBe(200);
    const clash = await adminCall('POST', '/v1/admin/experiments/ov-2/start');
    expect(clash.statusCode).toBe(409);
    expect(clash.json().error).toMatchObject({ code: 'overlapping_experiment', field: 'range' });
    expect(clash.json().error.message).toContain('ov-1');
    expect((await experiment('ov-2')).status).toBe('draft');
    expect((await adminCall('POST', '/v1/admin/experiments/ov-3/start')).statusCode).toBe(200);
    for (const id of ['ov-1', 'ov-3']) expect((await adminCall('POST', `/v1/admin/experiments/${id}/stop`)).statusCode).toBe(200);
  });

  it('starting a running experiment: 409 invalid_state', async () => {
    expect((await adminCall('POST', '/v1/admin/experiments', { id: 'twice', placement: 'bad', layer: 'twice', arms })).statusCode).toBe(
      201,
    );
    expect((await adminCall('POST', '/v1/admin/experiments/twice/start')).statusCode).toBe(200);
    const again = await adminCall('POST', '/v1/admin/experiments/twice/start');
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'invalid_state', field: 'status' });
    expect((await adminCall('POST', '/v1/admin/experiments/twice/stop')).statusCode).toBe(200);
  });

  it('rollback to an unknown version: 404 unknown_version (also on a placement with a single revision)', async () => {
    const res = await adminCall('POST', '/v1/admin/deployments/bad/rollback', {});
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'unknown_version', field: 'to' });
  });

  it('a canary without guardrails: 400 missing_guardrails', async () => {
    const res = await adminCall('POST', '/v1/admin/deployments/bad/canary', {
      recommender: { kind: 'popular', version: '1' },
      percent: 10,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'missing_guardrails', field: 'canary.guardrails' });
  });

  it('other stable codes: an experiment id taken (409 conflict), unknown experiment (404), unknown placement (400)', async () => {
    const dup = await adminCall('POST', '/v1/admin/experiments', { id: 'twice', placement: 'bad', arms });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('conflict');
    const missing = await adminCall('POST', '/v1/admin/experiments/ghost/start');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('not_found');
    const nowhere = await adminCall('POST', '/v1/admin/experiments', { id: 'nowhere', placement: 'no-such', arms });
    expect(nowhere.statusCode).toBe(400);
    expect(nowhere.json().error).toMatchObject({ code: 'unknown_placement', field: 'placement' });
  });
});

describe('exploration share', () => {
  it('PUT /deployments/:p/exploration sets {share, pool}, audited with its reason; null stops it; bad shares are 400 naming the field', async () => {
    await placement('explored', { live: { kind: 'latest', version: '1' } });
    const set = await adminCall('PUT', '/v1/admin/deployments/explored/exploration', {
      exploration: { share: 0.05, pool: 10 },
      reason: 'log propensities for OPE',
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({ revision: 2, exploration: { share: 0.05, pool: 10 } });
    const audit = (await adminCall('GET', '/v1/admin/audit?target=placement:explored&limit=1')).json().items;
    expect(audit[0]).toMatchObject({ action: 'set exploration', reason: 'log propensities for OPE' });

    const bad = await adminCall('PUT', '/v1/admin/deployments/explored/exploration', { exploration: { share: 0.9 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'invalid_field', field: 'exploration.share' });
    const missing = await adminCall('PUT', '/v1/admin/deployments/explored/exploration', {});
    expect(missing.statusCode).toBe(400);
    const shadows = await adminCall('PUT', '/v1/admin/deployments/explored/exploration', {
      exploration: { share: 0.05, pool: 10, shadowShare: 0.5 },
    });
    expect(shadows.statusCode, shadows.body).toBe(200);
    expect(shadows.json()).toMatchObject({ exploration: { share: 0.05, pool: 10, shadowShare: 0.5 } });
    const badShadows = await adminCall('PUT', '/v1/admin/deployments/explored/exploration', {
      exploration: { share: 0.05, shadowShare: 1.5 },
    });
    expect(badShadows.json().error).toMatchObject({ code: 'invalid_field', field: 'exploration.shadowShare' });

    const stop = await adminCall('PUT', '/v1/admin/deployments/explored/exploration', { exploration: null });
    expect(stop.statusCode, stop.body).toBe(200);
    expect(stop.json()).toMatchObject({ revision: 4, exploration: null });
  });
});

describe('reasons on DELETE', () => {
  it('removing a shadow and stopping a canary take the reason from a JSON body too', async () => {
    const r = { kind: 'popular', version: '1' };
    const guardrails = { maxErrorRate: 0.01, maxP99LatencyMs: 250, minCtrRatio: 0.9 };
    await placement('unsteered', { live: { kind: 'latest', version: '1' }, shadows: [r] });
    expect((await adminCall('POST', '/v1/admin/deployments/unsteered/canary', { recommender: r, percent: 5, guardrails })).statusCode).toBe(
      200,
    );
    const unshadow = await adminCall('DELETE', '/v1/admin/deployments/unsteered/shadows/popular/1', { reason: 'shadow seen enough: café' });
    expect(unshadow.statusCode, unshadow.body).toBe(200);
    const stop = await adminCall('DELETE', '/v1/admin/deployments/unsteered/canary', { reason: 'canary done' });
    expect(stop.json()).toMatchObject({ shadows: [], canary: null });
    const audit = (await adminCall('GET', '/v1/admin/audit?target=placement:unsteered&limit=2')).json().items;
    expect(audit.map((a: { action: string; reason: string }) => [a.action, a.reason])).toEqual([
      ['stop canary', 'canary done'],
      ['remove shadow', 'shadow seen enough: café'],
    ]);
  });
});
