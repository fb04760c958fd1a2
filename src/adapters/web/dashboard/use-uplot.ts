// The lifecycle every uPlot chart of the dashboard shares: drawn into a box as wide as the page
// gives it (at least `minWidth`), resized with the window, destroyed when its data change or the
// page leaves.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** What a chart draws: uPlot's options without the size, and its data; null draws nothing. */
export type UplotChart = { options: Omit<uPlot.Options, 'width' | 'height'>; data: uPlot.AlignedData } | null;

/**
 * A ref for the chart's box: `make` builds the chart whenever `deps` change (as useEffect's), at
 * `height` pixels.
 */
export function useUplot(make: () => UplotChart, height: number, deps: readonly unknown[], minWidth = 260) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const box = el.current;
    const chart = box ? make() : null;
    if (!box || !chart) return;
    const size = () => ({ width: Math.max(minWidth, box.clientWidth), height });
    const plot = new uPlot({ ...size(), ...chart.options }, chart.data, box);
    const resize = () => plot.setSize(size());
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.destroy();
    };
    // The caller's deps, as useEffect's, and the size.
  }, [...deps, height, minWidth]);
  return el;
}
