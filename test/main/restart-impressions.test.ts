import { afterAll, describe, expect, it } from 'vitest';
import type { ArticleStore, EventStore } from '../../src/app/ports.js';
import { loadConfig } from '../../src/config/config.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { DEFAULT_FEATURE_PARAMS, FEATURE_NAMES, FEATURE_SPEC, FeatureState } from '../../src/core/ml/features.js';
import type { FreshState } from '../../src/core/recommend/fresh-state.js';
import { openServices } from '../../src/main/services.js';
import { BACKENDS } from '../helpers/databases.js';
import { click, impression, pageView, read, T0 } from '../helpers/events.js';
import { syntheticArticle } from '../../src/core/simulate/synthetic.js';

// Issue 17: a learned ranker's impression features (ctr, impressions, reader_shown) come from the
// live impressions the serving state saw. After a restart the state is rebuilt from stored events
// (FreshFeed.replay, EventStore.scanSignals), so a restarted server must compute the same feature
// rows as one that never stopped. Numbered comments give the order of events.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const IDS = ['a', 'b', 'c', 'd', 'e', 'f'];
const articles = IDS.map((id, i) =>
  syntheticArticle(
    id,
    i % 2 === 0 ? 'weather' : 'politics',
    T0 - (i + 10) * HOUR,
    `Story ${id} about ${i % 2 === 0 ? 'rain and floods' : 'elections and votes'}`,
  ),
);

/** The model kind's observer key (kinds/model.ts), and the feature state it creates. */
const MODEL_KEY = `features:v${FEATURE_SPEC.version}:${JSON.stringify(DEFAULT_FEATURE_PARAMS)}`;
const featureState = (state: FreshState, key = MODEL_KEY) =>
  state.observer(key, () => new FeatureState(state.catalog, DEFAULT_FEATURE_PARAMS, state.options.maxReaders));

/** Three readers over an hour: live impressions of several placements, one shadow impression, clicks, reads and page views. */
function history(): Record<string, unknown>[][] {
  const batches: Record<string, unknown>[][] = [];
  let t = T0 - 2 * HOUR;
  const next = () => (t += 1000);
  for (let round = 0; round < 4; round++) {
    const batch: Record<string, unknown>[] = [];
    for (const [k, r] of ['r1', 'r2', 'r3'].entries()) {
      const ctx = IDS[(round + k) % IDS.length]!;
      const shown = IDS.filter((id) => id !== ctx).slice(round % 2, (round % 2) + 3);
      const items = shown.map((articleId, i) => ({ articleId, position: i + 1 }));
      batch.push(pageView(next(), { readerId: r, articleId: ctx, referrer: null }));
      batch.push(impression(next(), { readerId: r, articleId: ctx, placement: k === 2 ? 'homepage' : 'read-next', items }));
      // A shadow ranking of the same request: never shown, so never counted.
      batch.push(impression(next(), { readerId: r, articleId: ctx, items: [{ articleId: 'f', position: 1 }], shadow: true }));
      if ((round + k) % 2 === 0) {
        batch.push(click(next(), { readerId: r, articleId: shown[0], position: 1, placement: 'read-next' }));
        batch.push(read(next(), { readerId: r, articleId: shown[0] }));
      }
    }
    batches.push(batch);
  }
  return batches;
}

const QUERIES = [
  { readerId: 'r1', articleId: 'a' },
  { readerId: 'r2', articleId: 'c' },
  { readerId: 'r3', articleId: null },
  { readerId: 'r9', articleId: 'b' },
];

/** Every query's feature rows for every article, at `ts`. */
const rows = (fs: FeatureState, ts: number) => QUERIES.map((q) => Array.from(fs.features({ ...q, ts }, IDS)));

const column = (rs: number[][], name: (typeof FEATURE_NAMES)[number]) =>
  rs.flatMap((q) => {
    const out: number[] = [];
    for (let i = FEATURE_NAMES.indexOf(name); i < q.length; i += FEATURE_NAMES.length) out.push(q[i]!);
    return out;
  });

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`impression features across a restart (${backend.name})`, () => {
    it('a restarted server computes the feature rows of one that never stopped', async () => {
      const { url, cleanup } = await backend.create();
      cleanups.push(cleanup);
      const config = loadConfig(
        { db: url, adminKey: 'imp-admin-key-0123456789abcdef', ingestKey: 'imp-ingest-key-0123456789abcdef', logLevel: 'silent' },
        {},
      );
      const now = T0;

      // 1. The first life: a model's feature state exists before any event, fed live by the collector.
      const first = await openServices(config, { clock: fixedClock(now) });
      await first.catalog.upsert(articles);
      const live = featureState(first.state);
      let stored = 0;
      for (const batch of history()) stored += (await first.collector.ingest(batch, true)).accepted;
      expect(stored).toBe(history().flat().length);
      const expected = rows(live, now);
      // The impression features carry something to restore (all zero would prove nothing).
      expect(Math.max(...column(expected, 'reader_shown'))).toBeGreaterThan(0);
      expect(new Set(column(expected, 'impressions')).size).toBeGreaterThan(1);
      expect(new Set(column(expected, 'ctr')).size).toBeGreaterThan(1);
      await first.close();

      // 2. The restart, the replay held after its snapshot: a feature state created now is fed by the replay itself.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const held = (s: EventStore & ArticleStore): EventStore & ArticleStore =>
        Object.create(s, {
          scanSignals: {
            value: (since: number, onBatch: Parameters<EventStore['scanSignals']>[1], pinned?: () => void | Promise<void>) =>
              s.scanSignals(since, onBatch, async () => {
                await pinned?.();
                await gate;
              }),
          },
        }) as EventStore & ArticleStore;
      const second = await openServices(config, { clock: fixedClock(now), warmInBackground: true, replayStore: held });
      cleanups.push(() => second.close());
      const duringReplay = featureState(second.state);
      release();
      await second.warmedUp;

      // 3. And one created once the replay is done, from the state's retained signals and impressions.
      const afterReplay = featureState(second.state, `${MODEL_KEY}:later`);
      expect(rows(duringReplay, now)).toEqual(expected);
      expect(rows(afterReplay, now)).toEqual(expected);
    });
  });
}
