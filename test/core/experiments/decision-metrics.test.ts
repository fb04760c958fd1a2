import { describe, expect, it } from 'vitest';
import {
  DEFAULT_GUARDRAIL_METRICS,
  DEFAULT_PRIMARY_METRIC,
  decisionMetrics,
  parseExperiment,
  unbalancedPhase,
  type Experiment,
  type Phase,
} from '../../../src/core/experiments/experiment.js';
import { domainError } from '../../helpers/errors.js';

const T = Date.parse('2026-03-01T12:00:00Z');
const arms = [
  { name: 'control', recommender: { kind: 'none', version: '1' } },
  { name: 'b', recommender: { kind: 'latest', version: '1' } },
];
const base = { id: 'dm-1', placement: 'read-next', arms };

describe('primaryMetric and guardrailMetrics of an experiment definition', () => {
  it('default to articles read, guarded by conversion and dwell per read', () => {
    expect(DEFAULT_PRIMARY_METRIC).toBe('articles_read');
    expect(DEFAULT_GUARDRAIL_METRICS).toEqual(['conversion', 'dwell_per_read']);
    expect(parseExperiment(base, T)).toMatchObject({ primaryMetric: 'articles_read', guardrailMetrics: ['conversion', 'dwell_per_read'] });
    // A primary that is a default guardrail is not guarded by itself.
    expect(parseExperiment({ ...base, primaryMetric: 'conversion' }, T)).toMatchObject({
      primaryMetric: 'conversion',
      guardrailMetrics: ['dwell_per_read'],
    });
  });

  it('are kept as given; an empty guardrail list is allowed', () => {
    expect(parseExperiment({ ...base, primaryMetric: 'ctr', guardrailMetrics: ['articles_read', 'revenue_per_reader'] }, T)).toMatchObject({
      primaryMetric: 'ctr',
      guardrailMetrics: ['articles_read', 'revenue_per_reader'],
    });
    expect(parseExperiment({ ...base, guardrailMetrics: [] }, T).guardrailMetrics).toEqual([]);
  });

  it.each([
    ['an unknown primary', { primaryMetric: 'clicks' }, 'primaryMetric', /primaryMetric must be one of ctr, articles_read, /],
    ['a primary that is not a string', { primaryMetric: 3 }, 'primaryMetric', /primaryMetric must be one of/],
    ['guardrails that are not a list', { guardrailMetrics: 'conversion' }, 'guardrailMetrics', /must be an array of metric ids/],
    ['an unknown guardrail', { guardrailMetrics: ['conversion', 'bounce'] }, 'guardrailMetrics/1', /guardrailMetrics\/1 must be one of/],
    ['the primary as a guardrail', { guardrailMetrics: ['articles_read'] }, 'guardrailMetrics/0', /is the primary metric/],
    ['a guardrail twice', { guardrailMetrics: ['conversion', 'conversion'] }, 'guardrailMetrics/1', /listed twice/],
  ])('rejects %s, naming the field', (_what, extra, field, message) => {
    const e = domainError(() => parseExperiment({ ...base, ...extra }, T));
    expect(e).toMatchObject({ code: 'invalid_field', field });
    expect(e.message).toMatch(message);
  });

  it('fall back to the defaults for definitions stored before they existed', () => {
    const { primaryMetric: _p, guardrailMetrics: _g, ...old } = parseExperiment(base, T);
    expect(decisionMetrics(old as Pick<Experiment, 'primaryMetric'>)).toEqual({
      primaryMetric: 'articles_read',
      guardrailMetrics: ['conversion', 'dwell_per_read'],
    });
    expect(decisionMetrics({ primaryMetric: 'ctr', guardrailMetrics: [] })).toEqual({ primaryMetric: 'ctr', guardrailMetrics: [] });
  });
});

describe('unbalancedPhase: weights changed without re-randomising', () => {
  const phase = (n: number, weights: number[], reRandomised = false, coverage = 1): Phase => ({
    phase: n,
    startedTs: T + n,
    weights,
    coverage,
    reRandomised,
  });
  const exp = (phases: Phase[]): Pick<Experiment, 'phases'> => ({ phases });

  it('explains the phase and says what to do instead', () => {
    const w = unbalancedPhase(exp([phase(1, [0.5, 0.5]), phase(2, [0.2, 0.8])]), 2)!;
    expect(w).toMatch(
      /^phase 2 has weights 0\.2,0\.8 where phase 1 had 0\.5,0\.5, without re-randomising: readers exposed before kept their arm/,
    );
    expect(w).toMatch(/sample ratio mismatch by construction/);
    expect(w).toMatch(/--re-randomise, API "reRandomise": true\)$/);
  });

  it('is null for the first phase, a re-randomised phase, a coverage-only change, and the phases before the change', () => {
    expect(unbalancedPhase(exp([phase(1, [0.5, 0.5])]), 1)).toBeNull();
    expect(unbalancedPhase(exp([phase(1, [0.5, 0.5]), phase(2, [0.2, 0.8], true)]), 2)).toBeNull();
    expect(unbalancedPhase(exp([phase(1, [0.5, 0.5]), phase(2, [0.5, 0.5], false, 0.3)]), 2)).toBeNull();
    expect(unbalancedPhase(exp([phase(1, [0.5, 0.5]), phase(2, [0.2, 0.8])]), 1)).toBeNull();
  });

  it('still holds for a later coverage-only phase while earlier readers keep arms drawn with other weights', () => {
    const phases = [phase(1, [0.5, 0.5]), phase(2, [0.2, 0.8]), phase(3, [0.2, 0.8], false, 0.5)];
    expect(unbalancedPhase(exp(phases), 3)).toMatch(/^phase 3 has weights 0\.2,0\.8 where phase 1 had 0\.5,0\.5/);
    // After a re-randomised phase, earlier weights no longer matter.
    expect(unbalancedPhase(exp([...phases, phase(4, [0.2, 0.8], true), phase(5, [0.2, 0.8], false, 1)]), 5)).toBeNull();
  });
});
