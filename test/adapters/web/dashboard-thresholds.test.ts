import { describe, expect, it } from 'vitest';
import * as report from '../../../src/app/data-report.js';
import * as page from '../../../src/adapters/web/dashboard/pages/thresholds.js';
import { PSI_MODERATE } from '../../../src/core/stats/drift.js';

// The Data page states the data report's thresholds from a copy (pages/thresholds.ts keeps the
// report's module out of the browser bundle): the copy must equal the report's constants exactly.
describe('the Data page thresholds', () => {
  it('equal those of src/app/data-report.ts', () => {
    expect({ ...page }).toEqual({
      PSI_MODERATE,
      PSI_ALERT: report.FEATURE_PSI_ALERT,
      FEATURE_KS_D_ALERT: report.FEATURE_KS_D_ALERT,
      FEATURE_KS_ALPHA: report.FEATURE_KS_ALPHA,
      FEATURE_MIN_ROWS: report.FEATURE_MIN_ROWS,
      CTR_ALPHA: report.CTR_ALPHA,
      CTR_MIN_RELATIVE_CHANGE: report.CTR_MIN_RELATIVE_CHANGE,
      CTR_MIN_IMPRESSIONS: report.CTR_MIN_IMPRESSIONS,
      MODEL_DECAY_AUC_DROP: report.MODEL_DECAY_AUC_DROP,
    });
    expect(report.MIX_PSI_ALERT).toBe(page.PSI_ALERT);
  });
});
