/**
 * Off-policy evaluation against the simulator's truth (issue 18): over OPE_RUNS seeded runs
 * (default 200) of the `default` world, in process on a temporary SQLite file each, the live
 * co-read placement explores OPE_SHARE (default 5%) of its slates from a pool of OPE_POOL items
 * (default 30) while the candidates run in shadow; `readnext ope`'s use case (app/ope.ts) then
 * estimates each candidate's clicks per slate on the logged requests, and the world says what
 * they truly were: for each logged request, the candidate's slate b has expected clicks
 * (1 − Π_i (1 − q(b_i, i)))·e, with q and e the world's click model on that page (run.ts
 * `onSlate`). Printed per candidate and estimator: runs estimated (the others refused, with
 * their reasons counted), coverage of the truth by the 95% interval with its Wilson interval,
 * mean bias (estimate − truth, and relative), mean interval width.
 *
 *   npm run calibrate:ope   (env OPE_RUNS, OPE_READERS, OPE_DAYS, OPE_SHARE, OPE_POOL, OPE_SHADOW_SHARE, OPE_SEED, OPE_VERBOSE)
 *
 * The learned ranker is a candidate too: each run warms up for a day with co-read live and
 * exploring, trains a model on it (app/training.ts, the lab's small-data trees, seed = the run's)
 * and adds it in shadow for the measured days. Exit status 0 whatever the figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loggedRounds, offPolicyEstimate } from '../src/app/ope.js';
import { SIM_TRAINING_GBDT } from '../src/app/sim-experiment.js';
import { trainModel } from '../src/app/training.js';
import type { OpeEstimatorName } from '../src/core/ope/estimators.js';
import { runWorld } from '../src/core/simulate/run.js';
import { DEFAULT_WORLD } from '../src/core/simulate/world.js';
import { openSimServices } from '../src/main/sim-target.js';
import { wilsonInterval } from './calibrate.js';
import { emitResult, envNumber, fixed, int, machineInfo, runBench } from './lib.js';

const RUNS = Math.round(envNumber('OPE_RUNS', 200, 1));
const READERS = Math.round(envNumber('OPE_READERS', 1500, 10));
const DAYS = Math.round(envNumber('OPE_DAYS', 2, 1));
const SHARE = envNumber('OPE_SHARE', 0.05, 0);
const POOL = Math.round(envNumber('OPE_POOL', 30, 2));
/** Share of explored slates that show one shadow's slate whole (explore.ts); 0: all uniform. */
const SHADOW_SHARE = envNumber('OPE_SHADOW_SHARE', 0, 0);
const SEED = Math.round(envNumber('OPE_SEED', 1, 0));
/** OPE_VERBOSE=1: one line per run and candidate on stderr (rounds, explored, each estimator's ESS or refusal). */
const VERBOSE = process.env.OPE_VERBOSE === '1';
const DAY = 86_400_000;
const PLACEMENT = DEFAULT_WORLD.placement.name;
const BY = { actor: 'calibrate:ope', reason: null };
const ESTIMATORS: OpeEstimatorName[] = ['replay', 'ips', 'snips', 'pbm', 'dr'];

interface Cell {
  runs: number;
  covered: number;
  bias: number[];
  rel: number[];
  width: number[];
  refused: Map<string, number>;
}

async function oneRun(seed: number, cells: Map<string, Cell>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'readnext-ope-'));
  const start = Date.parse(DEFAULT_WORLD.startDate);
  try {
    const {
      services: s,
      clock,
      target,
    } = await openSimServices({
      db: `sqlite:${join(dir, 'sim.db')}`,
      startTs: start,
      config: { sqliteSynchronous: 'NORMAL' },
    });
    try {
      await target.deployLive(PLACEMENT, { kind: 'co-read', version: '1' });
      await s.deployments.setExploration(
        PLACEMENT,
        { share: SHARE, pool: POOL, ...(SHADOW_SHARE > 0 ? { shadowShare: SHADOW_SHARE } : {}) },
        BY,
      );
      await s.deployments.addShadow(PLACEMENT, { kind: 'popular', version: '1' }, BY);
      await s.deployments.addShadow(PLACEMENT, { kind: 'same-section', version: '1' }, BY);
      const truth = new Map<string, { q: (id: string, slot: number) => number; e: number }>();
      const measureFrom = start + DAY;
      let modelAdded = false;
      await runWorld(DEFAULT_WORLD, target, {
        seed,
        readers: READERS,
        days: DAYS + 1,
        onSlate: (x) => {
          if (modelAdded) truth.set(x.recommId, { q: (id, slot) => x.clickProbability(id, slot), e: x.emitProbability });
        },
        onDayEnd: async (day, now) => {
          if (day !== 1) return;
          // The warm-up day trains the learned ranker, which then runs in shadow.
          await s.recordWriter.flush();
          const m = await trainModel(
            { models: s.storage, articles: s.storage, clock, timer: () => performance.now() },
            { placement: PLACEMENT, sinceTs: start, untilTs: now, seed, gbdt: SIM_TRAINING_GBDT, warmupMs: 0 },
          );
          await s.deployments.addShadow(PLACEMENT, { kind: 'model', version: String(m.version) }, BY);
          modelAdded = true;
        },
      });
      await s.recordWriter.flush();
      const models = await s.storage.listModels({ placement: PLACEMENT });
      const candidates = [
        { kind: 'co-read', version: '1' },
        { kind: 'popular', version: '1' },
        { kind: 'same-section', version: '1' },
        ...models.map((m) => ({ kind: 'model', version: String(m.version) })),
      ];
      for (const candidate of candidates) {
        const req = { placement: PLACEMENT, candidate, sinceTs: measureFrom, untilTs: start + (DAYS + 1) * DAY };
        const { kept } = await loggedRounds(s.storage, req);
        // The truth on the same requests: the world's expected clicks of the candidate's slate.
        let sum = 0;
        let n = 0;
        for (const d of kept) {
          const t = truth.get(d.recommId);
          if (!t) continue;
          let none = 1;
          d.round.candidate.forEach((id, i) => (none *= 1 - t.q(id, i)));
          sum += (1 - none) * t.e;
          n++;
        }
        const trueValue = n > 0 ? sum / n : NaN;
        const report = await offPolicyEstimate(s.storage, req);
        const label = candidate.kind === 'model' ? 'model (trained on day 1)' : `${candidate.kind}@${candidate.version}`;
        if (VERBOSE) {
          const ess = (name: OpeEstimatorName): string => {
            const e = report.estimates[name];
            if (!e.ok) return e.code;
            const f = e.estimate.perSlate;
            return `ess ${fixed(e.estimate.ess, 0)} ${fixed(f.value, 5)} [${fixed(f.ci[0], 5)}, ${fixed(f.ci[1], 5)}]`;
          };
          console.error(
            `  seed ${seed} ${label}: ${int(report.rounds)} rounds, ${int(report.explored)} explored; truth ${fixed(trueValue, 5)}; ` +
              ESTIMATORS.map((name) => `${name} ${ess(name)}`).join(', '),
          );
        }
        for (const name of ESTIMATORS) {
          const key = `${label}\t${name}`;
          let c = cells.get(key);
          if (!c) cells.set(key, (c = { runs: 0, covered: 0, bias: [], rel: [], width: [], refused: new Map() }));
          const e = report.estimates[name];
          if (!e.ok) {
            c.refused.set(e.code, (c.refused.get(e.code) ?? 0) + 1);
            continue;
          }
          // Replay estimates position 1 only: its truth is the candidate's first item's.
          let tv = trueValue;
          if (name === 'replay') {
            let s1 = 0;
            let n1 = 0;
            for (const d of kept) {
              const t = truth.get(d.recommId);
              if (!t || d.round.candidate.length === 0) continue;
              s1 += t.q(d.round.candidate[0]!, 0) * t.e;
              n1++;
            }
            tv = n1 > 0 ? s1 / n1 : NaN;
          }
          const { value, ci } = e.estimate.perSlate;
          c.runs++;
          if (ci[0] <= tv && tv <= ci[1]) c.covered++;
          c.bias.push(value - tv);
          c.rel.push((value - tv) / tv);
          c.width.push(ci[1] - ci[0]);
        }
      }
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

await runBench(async () => {
  const m = machineInfo();
  console.log('off-policy evaluation against the simulator truth (default world)');
  console.log(`machine   ${m.nproc} CPUs (${m.cpuModel}), node ${m.node}`);
  console.log(
    `runs      ${RUNS} seeds from ${SEED}; ${int(READERS)} readers, 1 warm-up day (model trained) + ${DAYS} measured days; co-read live exploring ${SHARE * 100}% from a pool of ${POOL} (${SHADOW_SHARE * 100}% of it the shadows' slates); shadows popular@1, same-section@1, the model`,
  );
  const cells = new Map<string, Cell>();
  const t0 = performance.now();
  for (let r = 0; r < RUNS; r++) {
    await oneRun(SEED + r, cells);
    if ((r + 1) % 10 === 0) console.error(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${r + 1}/${RUNS} runs`);
  }
  console.log('');
  console.log('candidate\testimator\testimated\tcoverage (95% Wilson)\tmean bias\tmean relative bias\tmean CI width\trefused');
  for (const [key, c] of cells) {
    const w = c.runs > 0 ? wilsonInterval(c.covered, c.runs) : null;
    console.log(
      `${key}\t${c.runs}/${RUNS}\t${c.runs ? `${fixed((100 * c.covered) / c.runs, 1)}% [${fixed(100 * w![0], 1)}, ${fixed(100 * w![1], 1)}]` : 'n/a'}\t` +
        `${fixed(mean(c.bias), 5)}\t${fixed(100 * mean(c.rel), 1)}%\t${fixed(mean(c.width), 5)}\t` +
        `${[...c.refused].map(([k, v]) => `${k} ${v}`).join(', ') || '-'}`,
    );
  }
  console.log(`\n${((performance.now() - t0) / 1000).toFixed(0)} s`);
  emitResult({
    runs: RUNS,
    readers: READERS,
    seconds: (performance.now() - t0) / 1000,
    cells: [...cells].map(([key, c]) => {
      const [candidate, estimator] = key.split('\t');
      return { candidate, estimator, estimated: c.runs, coverage: c.runs > 0 ? c.covered / c.runs : null, meanBias: mean(c.bias) };
    }),
  });
  return 0;
});
