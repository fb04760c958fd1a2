/**
 * The ROI's updates (app/roi.ts), against closed forms:
 *   - normal prior N(μ0, σ0²), measurement x ± s: posterior σ1² = 1/(1/σ0² + 1/s²), μ1 = σ1²(μ0/σ0² + x/s²)
 *     (Gelman et al., BDA3 §2.5), written into the document exactly (tolerance 1e-12);
 *   - the same prior updated by sampling-importance-resampling (a derived input equal to it): the
 *     resampled mean and sd agree with the conjugate posterior within 4 Monte Carlo standard errors
 *     of an ESS-sized sample (mean: σ1/√ESS; sd: σ1/√(2·ESS));
 *   - a `measured` input is the measurement itself.
 */
import { describe, expect, it } from 'vitest';
import { analyseScenario, prepareScenario, type Measurement } from '../../src/app/roi.js';
import { normalPdf } from '../../src/core/stats/distributions.js';

const m = (mean: number, sd: number): Measurement => ({ source: 'experiment:e:articles_read', mean, sd, detail: 'test' });

describe('roi updates', () => {
  it('normal-normal: the posterior replaces the prior, by the closed form', () => {
    const doc = { samples: 20000, parameters: { u: { dist: 'normal', mean: 0.02, sd: 0.01 } }, options: { a: '0', b: 'u * 1000 - 15' } };
    const r = analyseScenario(doc, new Map([['u', m(0.035, 0.005)]]));
    const v1 = 1 / (1 / 0.01 ** 2 + 1 / 0.005 ** 2); // 2e-5
    const mu1 = v1 * (0.02 / 0.01 ** 2 + 0.035 / 0.005 ** 2); // 0.032
    expect(v1).toBeCloseTo(2e-5, 15);
    expect(mu1).toBeCloseTo(0.032, 12);
    const u = r.updates[0]!;
    expect(u).toMatchObject({ parameter: 'u', method: 'normal-normal' });
    expect(u.posterior.mean).toBeCloseTo(mu1, 12);
    expect(u.posterior.sd).toBeCloseTo(Math.sqrt(v1), 12);
    // The samples are drawn from the posterior: mean within 4 MC SE.
    expect(Math.abs(r.inputs.u!.mean - mu1)).toBeLessThan(4 * (Math.sqrt(v1) / Math.sqrt(20000)));
    // b = 1000u − 15 > 0 iff u > 0.015: P(best) moves up from Φ(0.5) ≈ 0.69 to Φ((0.032 − 0.015)/0.00447) ≈ 0.99993.
    expect(r.options.b!.p_best).toBeGreaterThan(0.999);
  });

  it('sampling-importance-resampling agrees with the conjugate posterior on a normal prior', () => {
    const doc = {
      samples: 200000,
      seed: 7,
      parameters: { p: { dist: 'normal', mean: 0.02, sd: 0.01 }, u: { dist: 'derived', expr: 'p' } },
      options: { a: '0', b: 'u * 1000 - 15' },
    };
    const r = analyseScenario(doc, new Map([['u', m(0.035, 0.005)]]));
    const u = r.updates[0]!;
    expect(u.method).toBe('sir');
    const s1 = Math.sqrt(1 / (1 / 0.01 ** 2 + 1 / 0.005 ** 2));
    const ess = u.ess!;
    // The measurement is 1.5 prior sd from the prior mean and twice as precise: a large share of the samples keep weight.
    expect(ess).toBeGreaterThan(5000);
    expect(Math.abs(u.posterior.mean - 0.032)).toBeLessThan(4 * (s1 / Math.sqrt(ess)));
    expect(Math.abs(u.posterior.sd - s1)).toBeLessThan(4 * (s1 / Math.sqrt(2 * ess)));
    // The joint sample moved with it: p is u.
    expect(r.inputs.p!.mean).toBeCloseTo(r.inputs.u!.mean, 12);
  });

  it('gives Monte Carlo errors of quantiles and shares: the closed forms for a normal option within 20% (quantiles) and exactly (shares)', () => {
    // b ~ N(0, 2²): SE of the q-quantile √(q(1 − q)/n)·σ/φ(z_q) (Serfling 1980 §2.3.3); the estimate
    // uses a difference quotient over about 2√(n·q(1 − q)) order statistics: a few percent of noise.
    const n = 200000;
    const r = analyseScenario({ samples: n, seed: 5, parameters: { p: { dist: 'normal', mean: 0, sd: 2 } }, options: { a: '0', b: 'p' } });
    const b = r.options.b!;
    for (const [k, q, z] of [
      ['p5', 0.05, -1.6448536269514722],
      ['p50', 0.5, 0],
      ['p95', 0.95, 1.6448536269514722],
    ] as const) {
      const exact = (Math.sqrt((q * (1 - q)) / n) * 2) / normalPdf(z);
      expect(Math.abs(b.quantiles_se[k] / exact - 1)).toBeLessThan(0.2);
    }
    expect(b.p_positive_se).toBeCloseTo(Math.sqrt((b.p_positive * (1 - b.p_positive)) / n), 15);
    expect(r.options.a!.quantiles_se.p50).toBe(0);
  });

  it('a measured input is the measurement; an update of an unknown input is refused naming it', () => {
    const doc = {
      samples: 20000,
      parameters: { u: { dist: 'measured', source: 'experiment:e:articles_read' } },
      options: { a: '0', b: 'u' },
    };
    const r = analyseScenario(doc, new Map([['u', m(0.01, 0.004)]]));
    expect(r.updates[0]).toMatchObject({ method: 'measured' });
    expect(Math.abs(r.inputs.u!.mean - 0.01)).toBeLessThan(4 * (0.004 / Math.sqrt(20000)));
    expect(Math.abs(r.inputs.u!.sd - 0.004)).toBeLessThan(4 * (0.004 / Math.sqrt(2 * 20000)));
    expect(() => analyseScenario(doc, new Map([['v', m(0, 1)]]))).toThrow(/parameters\.v/);
    expect(() => analyseScenario({ ...doc, parameters: {} })).toThrow(/options\.b/);
  });

  it('prepares derived inputs and measured_by, refusing chains and bad sources by name', () => {
    const p = prepareScenario({
      currency: 'EUR',
      parameters: {
        a: { dist: 'normal', mean: 1, sd: 1, unit: 'x', measured_by: 'ope:read-next:model@3' },
        d: { dist: 'derived', expr: 'a * 2' },
      },
      options: { o: 'd + a' },
    });
    expect(p.derived.get('d')).toBe('a * 2');
    expect(p.measuredBy.get('a')).toBe('ope:read-next:model@3');
    expect((p.core.options as Record<string, string>).o).toBe('(a * 2) + a');
    expect(() =>
      prepareScenario({ parameters: { a: { dist: 'derived', expr: 'b' }, b: { dist: 'derived', expr: '1' } }, options: {} }),
    ).toThrow(/parameters\.a\.expr/);
    expect(() => prepareScenario({ parameters: { a: { dist: 'normal', mean: 0, sd: 1, measured_by: 'somewhere' } }, options: {} })).toThrow(
      /parameters\.a\.measured_by/,
    );
    expect(() => prepareScenario({ currency: 'euros', parameters: {}, options: {} })).toThrow(/currency/);
  });
});
