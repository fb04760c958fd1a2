import type { ExperimentReport } from '../../src/app/analysis.js';
import type { SimTarget } from '../../src/app/sim-control.js';
import type { Article } from '../../src/core/catalog/article.js';
import type { WireEvent } from '../../src/core/simulate/platform.js';

/** The simulated start: a Monday morning in the past, far from the real clock. */
export const SIM_T0 = Date.parse('2025-06-02T06:00:00Z');
const MIN = 60_000;

export const simArticles = (n: number, at: number): Article[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `a${i + 1}`,
    url: `https://news.example/a${i + 1}`,
    title: `Headline ${i + 1}`,
    lead: null,
    body: null,
    section: i % 2 === 0 ? 'politics' : 'sport',
    tags: [],
    author: null,
    publishedAt: at - (n - i) * MIN,
    updatedAt: null,
    expiresAt: null,
    embargoUntil: null,
    status: 'published',
    paywalled: false,
    language: 'en',
  }));

export interface ScenarioResult {
  report: ExperimentReport;
  /** What was sent per arm: readers, reads. */
  sent: Map<string, { readers: number; reads: number }>;
  slates: { readerId: string; items: string[]; arm: string | null }[];
}

/**
 * A small, fixed newsroom minute by minute, driven through a target as the world drives it: the
 * clock set forward, articles published, a live recommender and a two-arm experiment, each reader's
 * page view asking for a slate, the events of a minute sent at once, then a report.
 */
export async function runScenario(t: SimTarget, readers = 24): Promise<ScenarioResult> {
  await t.setTime(SIM_T0);
  await t.publish(simArticles(8, SIM_T0));
  await t.deployLive('read-next', { kind: 'latest', version: '1' });
  const id = await t.startExperiment({
    id: 'sim-exp',
    placement: 'read-next',
    arms: [
      { name: 'control', recommender: { kind: 'latest', version: '1' } },
      { name: 'popular', recommender: { kind: 'popular', version: '1' } },
    ],
  });
  const sent = new Map<string, { readers: number; reads: number }>();
  const slates: ScenarioResult['slates'] = [];
  let seq = 0;
  const ev = (type: WireEvent['type'], readerId: string, ts: number, fields: Record<string, unknown>): WireEvent => ({
    type,
    schemaVersion: 1,
    eventId: `ev-${++seq}`,
    readerId,
    sessionId: `s-${readerId}`,
    timestamp: new Date(ts).toISOString(),
    ...fields,
  });
  for (let minute = 1; minute <= 3; minute++) {
    const now = SIM_T0 + minute * MIN;
    await t.setTime(now);
    const events: WireEvent[] = [];
    for (let r = 0; r < readers; r++) {
      if (r % 3 !== minute - 1) continue;
      const readerId = `reader-${r}`;
      const slate = await t.recommend({ placement: 'read-next', readerId, sessionId: `s-${readerId}`, articleId: 'a1' });
      const arm = slate.experiment?.arm ?? null;
      slates.push({ readerId, items: slate.items, arm });
      const s = sent.get(arm ?? '-') ?? { readers: 0, reads: 0 };
      s.readers++;
      events.push(ev('page_view', readerId, now + 1000, { articleId: 'a1', referrer: null }));
      events.push(
        ev('impression', readerId, now + 2000, {
          recommId: slate.recommId,
          placement: 'read-next',
          articleId: 'a1',
          items: slate.items.map((articleId, i) => ({ articleId, position: i + 1 })),
          experiment: slate.experiment?.id ?? null,
          phase: slate.experiment?.phase ?? null,
          arm,
        }),
      );
      if (r % 2 === 0 && slate.items.length > 0) {
        events.push(ev('click', readerId, now + 3000, { recommId: slate.recommId, articleId: slate.items[0], position: 1 }));
        events.push(ev('page_view', readerId, now + 4000, { articleId: slate.items[0], referrer: null }));
        events.push(ev('read', readerId, now + 30_000, { articleId: slate.items[0], dwellMs: 25_000, scroll: 0.9 }));
        s.reads++;
      }
      sent.set(arm ?? '-', s);
    }
    await t.send(events);
  }
  // Events sent at a clock time count once the clock has moved past it.
  await t.setTime(SIM_T0 + 10 * MIN);
  return { report: await t.report(id), sent, slates };
}

/** The report's figure for a metric and arm. */
export const figure = (r: ExperimentReport, metric: string, arm: string) =>
  r.metrics.find((m) => m.metric === metric)?.arms.find((a) => a.arm === arm);
