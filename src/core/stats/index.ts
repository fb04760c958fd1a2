/**
 * The statistics core: pure functions over per-arm sufficient statistics (no I/O, no clock, no
 * randomness). Formulas and sources are stated above each function; see README.md in this folder.
 */
export * from './statistics.js';
export * from './effect.js';
export * from './frequentist.js';
export * from './sequential.js';
export * from './bayesian.js';
export * from './srm.js';
export * from './data-quality.js';
export * from './multiple-testing.js';
export * from './power.js';
export * from './compare.js';
export {
  chiSquareCdf,
  chiSquareSf,
  normalCdf,
  normalPdf,
  normalQuantile,
  normalSf,
  studentTCdf,
  studentTPdf,
  studentTQuantile,
  studentTSf,
} from './distributions.js';
