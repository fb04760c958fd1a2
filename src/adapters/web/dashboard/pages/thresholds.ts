// The thresholds the data report alerts on (src/app/data-report.ts), as the Data page states them.
// Copied, not imported: importing the report's module would pull the feature replay and the trees
// into the browser bundle. test/adapters/web/dashboard-thresholds.test.ts checks they agree.

/** PSI: 0.1 to 0.2 is moderate, above 0.2 significant (Siddiqi 2006); features, section mix and reader activity alert above 0.2. */
export const PSI_MODERATE = 0.1;
export const PSI_ALERT = 0.2;
/** Features: KS alerts when D is at least this and its p is below FEATURE_KS_ALPHA. */
export const FEATURE_KS_D_ALERT = 0.1;
export const FEATURE_KS_ALPHA = 0.001;
/** Features: no feature alert when a half has fewer examples. */
export const FEATURE_MIN_ROWS = 1000;
/** CTR: the two-proportion test's p under which a day alerts, with at least this relative change, on days with enough impressions. */
export const CTR_ALPHA = 0.001;
export const CTR_MIN_RELATIVE_CHANGE = 0.1;
export const CTR_MIN_IMPRESSIONS = 1000;
/** Model decay: alert when the AUC on the latest half is this much below the stored offline AUC. */
export const MODEL_DECAY_AUC_DROP = 0.05;
