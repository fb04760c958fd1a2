import { describe, expect, it } from 'vitest';
import { ips, loggingPropensity, pbm, type LoggedRound } from '../../../src/core/ope/estimators.js';

// With one position, the PBM weight θ_1·1[b = a] / (π0(a, 1)·θ_1) is the item-position IPS weight
// 1 / π0(a, 1): both estimators must agree, whatever the logging policy (explore.ts), shadow-slate
// exploration included.
describe('pbm with shadow-slate exploration', () => {
  const shadows = { share: 0.5, slates: [['b']], shown: null };
  const base = { pool: ['a', 'b', 'c'], epsilon: 0.5, candidate: ['b'] };
  const rounds: LoggedRound[] = [
    { ...base, shown: ['a'], clicks: [1], explored: false, shadows },
    { ...base, shown: ['b'], clicks: [1], explored: true, shadows: { ...shadows, shown: 0 } },
    { ...base, shown: ['b'], clicks: [0], explored: true, shadows },
    { ...base, shown: ['c'], clicks: [1], explored: true, shadows },
  ];

  it('divides by the propensity the logging policy had, shadows included', () => {
    // π0(b, 1) = 0.5·(0.5/3 + 0.5·1) = 1/3: two matched rounds, one click, over 4 rounds.
    expect(loggingPropensity(rounds[1]!, 'b', 1)).toBeCloseTo(1 / 3, 12);
    const i = ips(rounds, { interval: 'clt' });
    const p = pbm(rounds, { examination: [1] });
    if (!i.ok || !p.ok) throw new Error('refused');
    expect(i.estimate.perSlate.value).toBeCloseTo(3 / 4, 12);
    expect(p.estimate.perSlate.value).toBeCloseTo(i.estimate.perSlate.value, 12);
  });
});
