/**
 * ROI benchmark (issue 19): the analysis of `readnext roi` (src/app/roi.ts analyseScenario) on
 * BENCH_ROI_SAMPLES (default 200,000) samples of a document with 3 options over 10 inputs of mixed
 * distributions (normal, lognormal, beta, triangular, PERT, uniform, discrete, two correlated by a
 * Gaussian copula): sampling, the options' summaries, EVPI and the EVPPI of every input with their
 * Monte Carlo standard errors. Target: <= 2 s on the issue's 2-core machine.
 *
 *   npm run bench:roi
 *
 * Each figure is the median of BENCH_ROI_RUNS (default 5) runs in this process after one warm-up;
 * the baseline measured in the same run is the same document without the EVPPIs (sampling and
 * summaries only: what the value of information adds). Exit status: 0 whatever the figures.
 */
import { analyseScenario } from '../src/app/roi.js';
import { parseScenario, sampleScenario } from '../src/core/roi/scenario.js';
import { evpi, summarize } from '../src/core/roi/voi.js';
import { emitResult, envNumber, fixed, loadAverage, machineInfo, median, runBench } from './lib.js';

const SAMPLES = Math.round(envNumber('BENCH_ROI_SAMPLES', 200_000, 1000));
const RUNS = Math.round(envNumber('BENCH_ROI_RUNS', 5, 1));
const TARGET_S = 2;

const DOC = {
  samples: SAMPLES,
  seed: 1,
  horizon_months: 36,
  discount_rate: 0.08,
  parameters: {
    visits: { dist: 'lognormal', p5: 2e7, p95: 6e7 },
    rpm: { dist: 'lognormal', mu: 1.6, sigma: 0.3 },
    uplift_h: { dist: 'normal', mean: 0.015, sd: 0.01 },
    lift_m: { dist: 'normal', mean: 0.03, sd: 0.015 },
    transfer: { dist: 'beta', alpha: 2, beta: 3 },
    pass: { dist: 'pert', min: 0.5, mode: 0.8, max: 1 },
    days_h: { dist: 'triangular', min: 5, mode: 10, max: 25 },
    days_m: { dist: 'uniform', min: 40, max: 160 },
    delay_m: { dist: 'discrete', values: [3, 6, 9, 12], probs: [0.2, 0.4, 0.3, 0.1] },
    run_m: { dist: 'lognormal', p5: 300, p95: 2000 },
  },
  correlations: [{ between: ['lift_m', 'transfer'], rho: 0.3 }],
  options: {
    status_quo: '0',
    heuristic: 'pv(uplift_h * visits * rpm / 1000 * pass - 150, 1) - days_h * 600',
    model: 'pv(((1 + uplift_h) * (1 + lift_m * transfer) - 1) * visits * rpm / 1000 * pass - run_m - 1800, delay_m) - days_m * 600',
  },
};

function timeIt(f: () => void): number {
  const t0 = performance.now();
  f();
  return (performance.now() - t0) / 1000;
}

await runBench(async () => {
  const m = machineInfo();
  console.log('readnext ROI benchmark: analyseScenario on 3 options x 10 inputs');
  console.log(
    `machine   ${m.nproc} CPUs (${m.cpuModel}), ${fixed(m.memGiB, 1)} GiB RAM, node ${m.node}; load average before: ${fixed(loadAverage() ?? NaN, 2)}`,
  );
  console.log(`runs      ${SAMPLES.toLocaleString('en-US')} samples, median of ${RUNS} runs after a warm-up`);
  let result = analyseScenario(DOC);
  const base: number[] = [];
  const full: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    base.push(
      timeIt(() => {
        const s = sampleScenario(parseScenario(DOC));
        summarize(s.options);
        evpi(s.options);
      }),
    );
    full.push(timeIt(() => (result = analyseScenario(DOC))));
  }
  const b = median(base);
  const f = median(full);
  console.log('');
  console.log(`baseline  sampling + summaries + EVPI        ${fixed(b, 3)} s (runs ${base.map((x) => fixed(x, 3)).join(', ')})`);
  console.log(
    `analysis  + EVPPI of all 10 inputs with SEs  ${fixed(f, 3)} s (runs ${full.map((x) => fixed(x, 3)).join(', ')}); ${fixed(f / b, 2)}x the baseline`,
  );
  console.log(
    `result    best ${result.best}; EVPI ${fixed(result.evpi, 0)} ± ${fixed(result.evpi_se, 0)}; top EVPPI ${result.ranking
      .slice(0, 3)
      .map((n) => `${n} ${fixed(result.evppi[n]!, 0)} ± ${fixed(result.evppi_se[n]!, 0)}`)
      .join(', ')}`,
  );
  console.log('');
  console.log(`target    full analysis <= ${TARGET_S} s: ${fixed(f, 3)} s ${f <= TARGET_S ? 'OK' : 'NOT MET'}`);
  emitResult({ samples: SAMPLES, runs: RUNS, baselineS: b, analysisS: f, targetS: TARGET_S, met: f <= TARGET_S });
  return 0;
});
