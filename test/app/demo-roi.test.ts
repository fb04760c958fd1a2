/**
 * The demo's last step when the canary rolled the model back (src/app/demo.ts): the model's A/B
 * test never started, so the ROI is updated with what production did measure (the heuristic's
 * test) while the model's online lift keeps its prior. Under a loaded machine the canary's p99
 * latency guard can breach, so this branch is the one a busy CI run may play.
 */
import { describe, expect, it } from 'vitest';
import { demoScenario, withoutMeasurement } from '../../src/app/demo.js';
import { prepareScenario } from '../../src/app/roi.js';

describe('withoutMeasurement', () => {
  it("drops one parameter's measurement from a copy and leaves the document as it was", () => {
    const doc = demoScenario();
    const before = JSON.stringify(doc);
    const copy = withoutMeasurement(doc, 'model_online_lift');
    expect(JSON.stringify(doc)).toBe(before);
    expect([...prepareScenario(doc).measuredBy.keys()].sort()).toEqual(['heuristic_uplift', 'model_online_lift']);
    expect([...prepareScenario(copy).measuredBy.keys()]).toEqual(['heuristic_uplift']);
    // The rest of the parameter (its prior: a derived expression) is unchanged.
    const params = (d: Record<string, unknown>) => d.parameters as Record<string, Record<string, unknown>>;
    const { measured_by: _gone, ...rest } = params(doc).model_online_lift!;
    expect(params(copy).model_online_lift).toEqual(rest);
  });

  it('names a parameter the document does not have', () => {
    expect(() => withoutMeasurement(demoScenario(), 'no_such')).toThrow(/no parameter no_such/);
  });
});
