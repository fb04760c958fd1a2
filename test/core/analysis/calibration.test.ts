/**
 * A/A calibration of the whole decision: simulated readers (test/core/analysis/readers.ts: skewed
 * engagement, heavy-tailed dwell and revenue, pre-period for CUPED) are split at random into arms
 * with nothing injected, aggregated into ArmSums, and analysed by analyseExperiment with the
 * defaults a report uses (frequentist engine, CUPED, alpha 0.05, the six metrics, primary
 * articles_read, guardrails conversion and dwell_per_read, the rest secondary). A split is a false
 * positive when any treatment arm's decision is "ship" or "do_not_ship".
 *
 * The bound: with N splits and a true rate of 5 %, the observed share has SE sqrt(0.05·0.95/N);
 * the test fails when the share exceeds 0.05 + 3 SE (a true rate of 5 % passes 99.87 % of the time;
 * one of 6.5 % at N = 2,000 fails about half the time). The share and its 95 % Wilson interval are
 * printed. Seeds are fixed.
 */
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../../src/core/analysis/metrics.js';
import { analyseExperiment } from '../../../src/core/analysis/report.js';
import { seededRng } from '../../../src/core/kernel/rng.js';
import { ArmAccumulator, population } from './readers.js';

const ALPHA = 0.05;

/** Wilson score interval (Wilson 1927) for k successes in n trials at z = 1.959964 (95 %). */
export function wilson(k: number, n: number, z = 1.959964): [number, number] {
  const p = k / n;
  const d = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / d;
  const half = (z / d) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

interface Tally {
  splits: number;
  decided: number;
  untrustworthy: number;
  anyMetric: number;
  primaryRaw: number;
}

/** `populations` × `splitsEach` random splits of `readers` readers into `arms` equal arms. */
function run(seed: number, arms: number, readers: number, populations: number, splitsEach: number): Tally {
  const rng = seededRng(seed);
  const names = Array.from({ length: arms }, (_, i) => (i === 0 ? 'control' : `t${i}`));
  const design = names.map((name) => ({ name, weight: 1 / arms }));
  const t: Tally = { splits: 0, decided: 0, untrustworthy: 0, anyMetric: 0, primaryRaw: 0 };
  for (let p = 0; p < populations; p++) {
    const pop = population(rng, readers);
    for (let s = 0; s < splitsEach; s++) {
      const acc = names.map(() => new ArmAccumulator());
      for (let r = 0; r < pop.size; r++) acc[rng.int(arms)]!.add(pop, r);
      const a = analyseExperiment(
        METRICS,
        design,
        acc.map((x, i) => x.sums(names[i]!)),
        { engine: 'frequentist', alpha: ALPHA },
      );
      t.splits++;
      if (a.decisions.some((d) => d.decision === 'ship' || d.decision === 'do_not_ship')) t.decided++;
      if (a.decisions.some((d) => d.decision === 'untrustworthy')) t.untrustworthy++;
      // The old rule, for contrast: any metric with a raw p-value below alpha.
      if (a.metrics.some((m) => m.comparisons.some((c) => c.error === null && c.pValue! < ALPHA))) t.anyMetric++;
      // Without Holm over the arms: any arm's primary p-value below alpha.
      if (a.metrics.find((m) => m.role === 'primary')!.comparisons.some((c) => c.error === null && c.pValue! < ALPHA)) t.primaryRaw++;
    }
  }
  return t;
}

function check(label: string, t: Tally): number {
  const share = t.decided / t.splits;
  const bound = ALPHA + 3 * Math.sqrt((ALPHA * (1 - ALPHA)) / t.splits);
  const [lo, hi] = wilson(t.decided, t.splits);
  console.info(
    `A/A ${label}: ${t.splits} splits, "ship" or "do not ship" in ${pct(share)} [95 % Wilson ${pct(lo)}, ${pct(hi)}]; ` +
      `untrustworthy ${pct(t.untrustworthy / t.splits)}; any of the six metrics significant (raw) ${pct(t.anyMetric / t.splits)}; ` +
      `any arm's primary significant without Holm ${pct(t.primaryRaw / t.splits)}`,
  );
  expect(share).toBeLessThanOrEqual(bound);
  // SRM and the data-loss check each false-alarm at 0.1 %: far fewer than 1 % of healthy splits.
  expect(t.untrustworthy / t.splits).toBeLessThanOrEqual(0.01);
  // The same splits judged metric by metric flag far more than alpha: the test can tell.
  expect(t.anyMetric / t.splits).toBeGreaterThan(2 * ALPHA);
  return bound;
}

describe('A/A: the share of experiments with a "ship" or "do not ship" decision is at most 5 %', () => {
  it('two arms, about 2,000 readers each: 4,000 random splits (40 populations × 100)', () => {
    check('two arms', run(20260301, 2, 4000, 40, 100));
  });

  it('three arms, the primary Holm-adjusted over the two treatment arms: 2,000 random splits (20 populations × 100)', () => {
    const t = run(20260302, 3, 4500, 20, 100);
    const bound = check('three arms', t);
    // Unadjusted over the arms, the same splits would break the bound (about 1 − 0.95² ≈ 9.75 %).
    expect(t.primaryRaw / t.splits).toBeGreaterThan(bound);
  });
});
