/**
 * Business metrics of an experiment, defined once. Every metric is computed per reader (the
 * randomisation unit) from the reader's first exposure in a phase until the phase ends, then
 * aggregated per arm into sufficient statistics for the engines in core/stats. Readers exposed but
 * never shown anything (the status-quo arm) count with zeros.
 *
 * Which events count (docs/adr/0001-analysis-rollups.md, "What a report is computed over"):
 * - one clock: an event is placed in time by the server's receive time, which the exposure's time
 *   (the server's, when it answered) is comparable with; a reader's clock never moves an event;
 * - after exposure: received at or after the first exposure, or the page view of the page that made
 *   it (a `page_view` of the exposure's session and article received at most EXPOSURE_GRACE_MS
 *   before it: the SDK sends a page view before, or with, the widget's request);
 * - until the phase ends (receive time before the next phase, the stop);
 * - CTR: impressions and clicks of the experiment's placement only;
 * - revenue: in one currency (RevenueCurrency), never two added together.
 * The same rule applies to every arm, and the arm is drawn independently of anything that happened
 * before the exposure, so whatever pre-exposure behaviour the grace admits cannot bias a comparison.
 */

/**
 * How long before the first exposure a page view of the exposure's session and article still
 * counts as the page that made the exposure, milliseconds. The SDK queues a page view and sends it
 * within a second (FLUSH_DELAY_MS), usually after the widget's request; it is sent first when the
 * queue is flushed early (a full batch, the page hidden) or the widget is requested later.
 */
export const EXPOSURE_GRACE_MS = 5000;

/**
 * The currency revenue is reported in and the rates that convert others to it (units of `currency`
 * per unit of the key's currency). Revenue in a currency without a rate is never added: it is
 * counted apart, per arm and currency, and the report flags it.
 */
export interface RevenueCurrency {
  currency: string;
  rates: Readonly<Record<string, number>>;
}

/** EUR, no conversion: revenue in any other currency is reported apart. */
export const DEFAULT_REVENUE_CURRENCY: RevenueCurrency = Object.freeze({ currency: 'EUR', rates: Object.freeze({}) });

/** Per-reader quantities measured from stored events after the reader's first exposure. */
export const MEASURES = ['impressions', 'clicks', 'reads', 'dwellMs', 'pageViews', 'sessions', 'subscribed', 'revenue'] as const;
export type Measure = (typeof MEASURES)[number];

export interface MetricDef {
  id: string;
  name: string;
  /** mean: Σx/n over readers; proportion: share of readers with x = 1; ratio: Σnumerator / Σdenominator (delta method). */
  kind: 'mean' | 'proportion' | 'ratio';
  numerator: Measure;
  denominator?: Measure;
  /** Lower is better. */
  inverse: boolean;
  unit: string;
  description: string;
}

export const METRICS: readonly MetricDef[] = Object.freeze([
  {
    id: 'ctr',
    name: 'Widget CTR',
    kind: 'ratio',
    numerator: 'clicks',
    denominator: 'impressions',
    inverse: false,
    unit: 'clicks per impression',
    description: "recommendation clicks / widget impressions of the experiment's placement, pooled per arm (delta method over readers)",
  },
  {
    id: 'articles_read',
    name: 'Articles read per reader',
    kind: 'mean',
    numerator: 'reads',
    inverse: false,
    unit: 'reads',
    description: '`read` events per exposed reader',
  },
  {
    id: 'pages_per_session',
    name: 'Pages per session',
    kind: 'ratio',
    numerator: 'pageViews',
    denominator: 'sessions',
    inverse: false,
    unit: 'page views',
    description: '`page_view` events / distinct sessions with any event',
  },
  {
    id: 'dwell_per_read',
    name: 'Mean dwell per read',
    kind: 'ratio',
    numerator: 'dwellMs',
    denominator: 'reads',
    inverse: false,
    unit: 'milliseconds',
    description: 'Σ dwellMs of reads / reads',
  },
  {
    id: 'conversion',
    name: 'Subscription conversion',
    kind: 'proportion',
    numerator: 'subscribed',
    inverse: false,
    unit: 'share of readers',
    description: 'readers with at least one `subscribe` event',
  },
  {
    id: 'revenue_per_reader',
    name: 'Revenue per reader',
    kind: 'mean',
    numerator: 'revenue',
    inverse: false,
    unit: 'currency major units',
    description:
      "Σ revenue of `subscribe` events per exposed reader, in the report's currency (revenue in a currency without a rate is reported apart)",
  },
]);

/** Sums over the readers of one arm: n, Σx and Σx² per measure, Σx·y for each ratio's pair. */
export interface ArmSums {
  arm: string;
  n: number;
  /**
   * Readers with at least one page view after exposure (the exposure's own page view counts): the
   * one-sided data-loss check (core/analysis/report.ts dataQuality) compares its share across arms.
   */
  active: number;
  sum: Record<Measure, number>;
  sumSquares: Record<Measure, number>;
  /** Keyed "numerator*denominator" for every ratio metric. */
  crossProducts: Record<string, number>;
  /**
   * CUPED covariate: the same measures over the PRE_PERIOD_MS before each reader's first exposure
   * (Σx_pre, Σx_pre²) and Σ x·x_pre.
   */
  pre: { sum: Record<Measure, number>; sumSquares: Record<Measure, number> };
  sumPostPre: Record<Measure, number>;
  /**
   * CUPED for a ratio metric m/d (keyed "m*d", for CUPED_RATIO_PAIRS): the cross sums of the
   * pre-period that `sumPostPre` and `crossProducts` do not hold: Σ m_pre·d_pre, Σ m_post·d_pre,
   * Σ m_pre·d_post.
   */
  preCrossProducts: Record<string, { prePre: number; postPre: number; prePost: number }>;
}

/**
 * Measures with a CUPED pre-period. Distinct sessions before exposure are not kept; nor are
 * impressions and clicks per placement (the pre-period is kept per reader and day, over every
 * placement), so CTR, which counts the experiment's placement only, is not CUPED-adjusted.
 */
export const PRE_MEASURES: ReadonlySet<Measure> = new Set(
  MEASURES.filter((m) => m !== 'sessions' && m !== 'impressions' && m !== 'clicks'),
);

/** The CUPED pre-period: 14 days before a reader's first exposure, milliseconds. */
export const PRE_PERIOD_MS = 14 * 24 * 60 * 60 * 1000;

/** The measure pairs whose cross-product a ratio metric needs. */
export const RATIO_PAIRS: readonly [Measure, Measure][] = METRICS.filter((m) => m.kind === 'ratio').map(
  (m) => [m.numerator, m.denominator!] as [Measure, Measure],
);

/** The ratio pairs that CUPED can adjust: both measures have a pre-period (not pages per session). */
export const CUPED_RATIO_PAIRS: readonly [Measure, Measure][] = RATIO_PAIRS.filter(([a, b]) => PRE_MEASURES.has(a) && PRE_MEASURES.has(b));
