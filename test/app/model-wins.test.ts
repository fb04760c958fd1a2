/**
 * Model vs heuristics on the simulated newsroom (issue 17): the replay protocol of
 * `readnext eval --format events`, bounded to run in a test.
 *
 * Pipeline: simulate a world in process on a SQLite file (seeded, the world's experiment live, so
 * impressions come from two recommenders), read its events back as lab impressions, split at the
 * start of the last day, fit every scorer on the earlier window and replay the later one (each
 * impression scored with its labels hidden, then observed). Per test impression with a click and
 * a non-click: AUC and nDCG@10 of each scorer; the model's paired margin over each heuristic with
 * a 95 % normal interval over impressions.
 *
 * Bigger runs (the figures in docs/lab.md): READNEXT_MODEL_WINS_READERS / _DAYS.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStorage } from '../../src/adapters/storage/open.js';
import { runSimExperiment } from '../../src/app/sim-experiment.js';
import { impressionsFromEvents } from '../../src/core/lab/events.js';
import { labScorers } from '../../src/core/lab/heuristic.js';
import { impressionMetrics } from '../../src/core/lab/metrics.js';
import { runProtocol } from '../../src/core/lab/protocols.js';
import { modelScorerFactory } from '../../src/core/ml/lab-scorer.js';
import { DEFAULT_WORLD, parseWorld, type WorldSpec } from '../../src/core/simulate/world.js';
import { appRecommenders } from '../../src/main/recommenders.js';
import { openInProcessTarget } from '../../src/main/sim-target.js';

const READERS = Number(process.env.READNEXT_MODEL_WINS_READERS ?? 1500);
const DAYS = Number(process.env.READNEXT_MODEL_WINS_DAYS ?? 3);
const DAY_MS = 86_400_000;

interface Margin {
  heuristic: string;
  metric: 'auc' | 'ndcg10';
  model: number;
  other: number;
  diff: number;
  /** Half-width of the 95 % interval of the mean paired difference. */
  half: number;
}

async function measure(world: WorldSpec, seed: number): Promise<{ margins: Margin[]; counted: number; lines: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'readnext-model-wins-'));
  const db = `sqlite:${join(dir, 'sim.db')}`;
  try {
    const startTs = Date.parse(world.startDate);
    const target = await openInProcessTarget({ db, startTs, config: { sqliteSynchronous: 'NORMAL' } });
    try {
      await runSimExperiment(target, { world, seed, readers: READERS, days: DAYS });
    } finally {
      await target.close();
    }
    const storage = await openStorage(db, { sqlite: { synchronous: 'NORMAL' } });
    const [articleList, rows, reads] = await Promise.all([storage.labArticles(), storage.labImpressions(), storage.labReads()]);
    await storage.close();
    const articles = new Map(articleList.map((a) => [a.id, a]));
    const all = impressionsFromEvents(rows, reads);
    const split = startTs + (DAYS - 1) * DAY_MS;
    const train = all.filter((i) => i.ts < split);
    const test = all.filter((i) => i.ts >= split);
    const { factories, all: names } = labScorers(appRecommenders(), new Map([['model', modelScorerFactory]]));
    const per = new Map<string, { auc: number; ndcg10: number }[]>();
    for (const name of names.filter((n) => n !== 'random')) {
      const scorer = factories.get(name)!({}, { articles, seed });
      const r = await runProtocol(scorer, train, test, articles, { protocol: 'replay', seed });
      per.set(
        name,
        test.map((imp, i) => {
          const m = impressionMetrics(
            imp.candidates.map((c) => (c.clicked ? 1 : 0)),
            r.ranks[i]!,
          );
          return { auc: m.auc ?? NaN, ndcg10: m.ndcg10 ?? NaN };
        }),
      );
    }
    // Impressions every metric counts: a click and a non-click.
    const model = per.get('model')!;
    const keep = model.map((m, i) => i).filter((i) => Number.isFinite(model[i]!.auc));
    const margins: Margin[] = [];
    const lines: string[] = [
      `${world.name}: ${READERS} readers, ${DAYS} days, seed ${seed}; ${train.length} train / ${test.length} test impressions, ${keep.length} counted`,
    ];
    for (const [name, rowsOf] of per) {
      if (name === 'model') continue;
      for (const metric of ['auc', 'ndcg10'] as const) {
        const d = keep.map((i) => model[i]![metric] - rowsOf[i]![metric]);
        const mean = d.reduce((a, b) => a + b, 0) / d.length;
        const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, d.length - 1));
        const avg = (xs: { auc: number; ndcg10: number }[]) => keep.reduce((a, i) => a + xs[i]![metric], 0) / keep.length;
        const m: Margin = {
          heuristic: name,
          metric,
          model: avg(model),
          other: avg(rowsOf),
          diff: mean,
          half: (1.96 * sd) / Math.sqrt(d.length),
        };
        margins.push(m);
        lines.push(
          `  model ${metric} ${m.model.toFixed(4)} vs ${name} ${m.other.toFixed(4)}: margin ${m.diff >= 0 ? '+' : ''}${m.diff.toFixed(4)} ± ${m.half.toFixed(4)}`,
        );
      }
    }
    return { margins, counted: keep.length, lines };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the model against the heuristics on simulated logs (replay protocol)', () => {
  it('default world: the margins of the model over every heuristic on AUC and nDCG@10', { timeout: 600_000 }, async () => {
    const { margins, counted, lines } = await measure(DEFAULT_WORLD, 7);
    console.log(lines.join('\n'));
    expect(counted).toBeGreaterThan(0);
    expect(margins.length).toBe(8);
    // The bounded run (a few dozen counted impressions) is too small to separate the scorers
    // (intervals about ±0.15 to ±0.4 AUC): it prints the margins. READNEXT_MODEL_WINS_ASSERT=1 with a
    // large run (15,000 readers, 5 days: docs/lab.md) checks the win: every margin's 95 % interval
    // above zero.
    if (process.env.READNEXT_MODEL_WINS_ASSERT === '1')
      for (const m of margins) expect(m.diff - m.half, `${m.metric} vs ${m.heuristic}`).toBeGreaterThan(0);
  });

  it('tie world: the same pipeline claims no significant win for the model', { timeout: 600_000 }, async () => {
    const tie = parseWorld(JSON.parse(readFileSync(new URL('../../worlds/tie.json', import.meta.url), 'utf8')));
    const { margins, lines } = await measure(tie, 7);
    console.log(lines.join('\n'));
    // No heuristic is beaten with its 95 % interval above zero on both metrics at once.
    for (const h of new Set(margins.map((m) => m.heuristic))) {
      const both = margins.filter((m) => m.heuristic === h).every((m) => m.diff - m.half > 0);
      expect(both, h).toBe(false);
    }
  });
});
