// Small charts drawn as SVG: an interval bar and a quantile band, each on a shared scale so that
// rows of a table compare at a glance. Each chart carries a text alternative (role="img" with a label).

/** A common [min, max] domain over values (always including 0), padded by 5% of its width. */
export function domainOf(values: readonly number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  let lo = Math.min(0, ...finite);
  let hi = Math.max(0, ...finite);
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

const W = 300;
const x = (v: number, [lo, hi]: readonly [number, number]) => ((v - lo) / (hi - lo)) * W;

/** An estimate with its interval [lo, hi], and a dashed line at 0. */
export function IntervalBar(p: {
  lo: number;
  est: number;
  hi: number;
  domain: [number, number];
  label: string;
  tone?: 'good' | 'bad' | 'none';
}) {
  const H = 20;
  return (
    <svg class={`chart interval ${p.tone ?? 'none'}`} viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={p.label}>
      <line class="zero" x1={x(0, p.domain)} x2={x(0, p.domain)} y1={0} y2={H} />
      <line class="range" x1={x(p.lo, p.domain)} x2={x(p.hi, p.domain)} y1={H / 2} y2={H / 2} />
      <line class="cap" x1={x(p.lo, p.domain)} x2={x(p.lo, p.domain)} y1={5} y2={H - 5} />
      <line class="cap" x1={x(p.hi, p.domain)} x2={x(p.hi, p.domain)} y1={5} y2={H - 5} />
      <circle class="est" cx={x(p.est, p.domain)} cy={H / 2} r={4} />
    </svg>
  );
}

export interface Quantiles {
  p5: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
}

/** p5..p95 as a light band, p25..p75 as a dark one, the median as a tick, and a dashed line at 0. */
export function QuantileBand(p: { q: Quantiles; domain: [number, number]; label: string }) {
  const H = 28;
  const { q, domain } = p;
  return (
    <svg class="chart band" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={p.label}>
      <rect class="outer" x={x(q.p5, domain)} width={Math.max(1, x(q.p95, domain) - x(q.p5, domain))} y={8} height={H - 16} />
      <rect class="inner" x={x(q.p25, domain)} width={Math.max(1, x(q.p75, domain) - x(q.p25, domain))} y={4} height={H - 8} />
      <line class="median" x1={x(q.p50, domain)} x2={x(q.p50, domain)} y1={1} y2={H - 1} />
      <line class="zero" x1={x(0, domain)} x2={x(0, domain)} y1={0} y2={H} />
    </svg>
  );
}

/** Tick labels under a column of charts: the domain's ends and 0. */
export function Axis({ domain, format }: { domain: [number, number]; format: (v: number) => string }) {
  return (
    <div class="axis" aria-hidden="true">
      <span>{format(domain[0])}</span>
      <span style={{ left: `${(x(0, domain) / W) * 100}%` }} class="axis-zero">
        0
      </span>
      <span>{format(domain[1])}</span>
    </div>
  );
}
