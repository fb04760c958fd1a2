/**
 * Off-policy evaluation of slate recommenders from the live placement's exploration logs: pure
 * functions, formulas and sources above each one in estimators.ts.
 */
export * from './estimators.js';
