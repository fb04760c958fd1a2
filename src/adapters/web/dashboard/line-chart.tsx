// A daily time series as a uPlot line chart (canvas, a few kilobytes; the page gives the figures in
// a table too, the chart's text alternative). Shared by pages that chart figures per UTC day.
import uPlot from 'uplot';
import { useUplot } from './use-uplot.js';

/** Line colours, distinguishable for the common colour-vision deficiencies (Okabe-Ito). */
export const LINE_COLOURS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000'];

export interface DailySeries {
  label: string;
  /** One value per day (null: no figure that day, drawn as a gap). */
  values: (number | null)[];
}

const DAY_S = 86_400;
/** Tick steps of a count axis: whole numbers only (uPlot's default steps include 0.2, 0.5, …). */
const INTEGER_STEPS = Array.from({ length: 10 }, (_, i) => [1, 2, 5].map((m) => m * 10 ** i)).flat();

/**
 * Lines over UTC days (YYYY-MM-DD): x in seconds as uPlot's time scale wants, shown in UTC.
 * `format` labels the y axis and the legend's values; `integer` keeps the y ticks on whole numbers (counts).
 */
export function DailyLineChart(p: {
  days: string[];
  series: DailySeries[];
  label: string;
  format: (v: number) => string;
  integer?: boolean;
  height?: number;
}) {
  const height = p.height ?? 200;
  const el = useUplot(
    () => {
      if (p.days.length === 0) return null;
      const xs = p.days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
      const fmtValue = (_u: uPlot, v: number | null) => (v === null || v === undefined ? '–' : p.format(v));
      return {
        options: {
          tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
          scales: {
            x: { time: true, range: (_u, lo, hi) => (lo === hi ? [lo - DAY_S, hi + DAY_S] : [lo, hi]) },
            y: { range: (_u, _lo, hi) => [0, hi !== null && hi > 0 ? hi * 1.1 : 1] },
          },
          axes: [{}, { values: (_u, ticks) => ticks.map((t) => p.format(t)), size: 60, ...(p.integer ? { incrs: INTEGER_STEPS } : {}) }],
          series: [
            { label: 'day', value: (_u, v) => (v === null ? '–' : new Date(v * 1000).toISOString().slice(0, 10)) },
            ...p.series.map((s, i) => ({
              label: s.label,
              stroke: LINE_COLOURS[i % LINE_COLOURS.length]!,
              width: 2,
              points: { show: true, size: 5 },
              value: fmtValue,
            })),
          ],
        },
        data: [xs, ...p.series.map((s) => s.values)],
      };
    },
    height,
    // The figures, not the arrays' identities: a re-render with the same data keeps the chart.
    [JSON.stringify([p.days, p.series]), p.integer],
  );
  return <div ref={el} class="uplot-box" role="img" aria-label={p.label} />;
}
