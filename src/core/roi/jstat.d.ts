/**
 * The part of jstat 1.9.6 (CommonJS, untyped) that src/core uses (roi, stats/weighted-poisson). Import it as
 * `import jstatPkg from 'jstat'; const { jStat } = jstatPkg;`.
 */
declare module 'jstat' {
  interface JStatStatic {
    beta: {
      /** Quantile of Beta(alpha, beta): Newton–Halley on the regularised incomplete beta (Numerical Recipes 6.4). */
      inv(p: number, alpha: number, beta: number): number;
    };
    gamma: {
      /** Quantile of Gamma(shape, scale). */
      inv(p: number, shape: number, scale: number): number;
    };
    triangular: {
      /** Quantile of the triangular distribution on [a, b] with mode c (note the argument order). */
      inv(p: number, a: number, b: number, c: number): number;
    };
  }
  const jstatPkg: { jStat: JStatStatic };
  export default jstatPkg;
}
