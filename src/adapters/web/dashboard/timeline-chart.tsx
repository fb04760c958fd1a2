// An experiment's estimate over time with its confidence-sequence band, as a uPlot chart (canvas;
// the page gives the points in a table too, the chart's text alternative). The sequence is always
// valid, so the band may be read at every point, not only at the end.
import uPlot from 'uplot';
import { useUplot } from './use-uplot.js';
import { LINE_COLOURS } from './line-chart.js';

export interface EstimateSeries {
  /** The treatment arm. */
  label: string;
  /** One per time (null: no estimate then, drawn as a gap). */
  estimate: (number | null)[];
  lo: (number | null)[];
  hi: (number | null)[];
}

/** `#rrggbb` with an alpha, for the band's fill. */
const translucent = (hex: string, alpha: number) =>
  `${hex}${Math.round(alpha * 255)
    .toString(16)
    .padStart(2, '0')}`;

/**
 * One line per treatment arm (its colour from LINE_COLOURS) over times `ts` (epoch milliseconds,
 * shown in UTC), with its band between `lo` and `hi` and a dashed line at 0 (no effect). `format`
 * labels the y axis and the legend's values.
 */
export function EstimateTimelineChart(p: {
  ts: number[];
  series: EstimateSeries[];
  label: string;
  format: (v: number) => string;
  height?: number;
}) {
  const height = p.height ?? 240;
  const el = useUplot(
    () => {
      if (p.ts.length === 0) return null;
      const xs = p.ts.map((t) => t / 1000);
      const fmtValue = (_u: uPlot, v: number | null) => (v === null || v === undefined ? '–' : p.format(v));
      const values = p.series
        .flatMap((s) => [...s.estimate, ...s.lo, ...s.hi])
        .filter((v): v is number => v !== null && Number.isFinite(v));
      const lo = Math.min(0, ...values);
      const hi = Math.max(0, ...values);
      const pad = (hi - lo || 1) * 0.08;
      // Series: x, the zero line, then per arm its estimate, upper and lower bound (the band fills between the bounds).
      const series: uPlot.Series[] = [
        {
          label: 'data through (UTC)',
          value: (_u, v) => (v === null ? '–' : new Date(v * 1000).toISOString().slice(0, 16).replace('T', ' ')),
        },
        { label: 'no effect', stroke: '#57606a', width: 1, dash: [6, 4], points: { show: false }, value: fmtValue },
      ];
      const bands: uPlot.Band[] = [];
      p.series.forEach((s, i) => {
        const colour = LINE_COLOURS[i % LINE_COLOURS.length]!;
        const at = series.length;
        series.push(
          { label: s.label, stroke: colour, width: 2, points: { show: true, size: 6 }, value: fmtValue },
          { label: `${s.label} upper`, stroke: translucent(colour, 0.6), width: 1, points: { show: false }, value: fmtValue },
          { label: `${s.label} lower`, stroke: translucent(colour, 0.6), width: 1, points: { show: false }, value: fmtValue },
        );
        bands.push({ series: [at + 1, at + 2], fill: translucent(colour, 0.15) });
      });
      return {
        options: {
          tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
          scales: {
            x: { time: true, range: (_u, a, b) => (a === b ? [a - 3600, b + 3600] : [a, b]) },
            y: { range: () => [lo - pad, hi + pad] },
          },
          axes: [{}, { values: (_u, ticks) => ticks.map((t) => p.format(t)), size: 60 }],
          series,
          bands,
        },
        data: [xs, xs.map(() => 0), ...p.series.flatMap((s) => [s.estimate, s.hi, s.lo])],
      };
    },
    height,
    // The figures, not the arrays' identities: a re-render with the same data keeps the chart.
    [JSON.stringify([p.ts, p.series])],
  );
  return <div ref={el} class="uplot-box" role="img" aria-label={p.label} />;
}
