// Overview (issue 20, page 1): the traffic and business KPIs per UTC day (GET /v1/admin/kpis) as
// line charts with the figures in a table, and what serves each placement (GET /v1/admin/deployments).
import { useState } from 'preact/hooks';
import type { KpiReport } from '../../../../app/kpis.js';
import { api } from '../api.js';
import { DailyLineChart } from '../line-chart.js';
import { fetchDeployments, PlacementFacts } from '../placements.js';
import { fmt, pct, useLoad } from '../use-load.js';
import './overview.css';

/** The windows offered, in days ending now (the API takes at most 92). */
const WINDOWS = [7, 14, 30, 92] as const;

/** `since` for a window of `days` UTC days ending today (today is partial). */
const sinceFor = (days: number): string => new Date(Date.now() - (days - 1) * 86_400_000).toISOString().slice(0, 10);

export function Overview(_: { rest: string[] }) {
  const [days, setDays] = useState<number>(14);
  const kpis = useLoad(() => api<KpiReport>('GET', `/v1/admin/kpis?since=${sinceFor(days)}`), [days]);
  const deployments = useLoad(fetchDeployments, []);
  return (
    <>
      <div class="row">
        <label for="ov-window">Window</label>
        <select id="ov-window" value={days} onChange={(e) => setDays(Number(e.currentTarget.value))}>
          {WINDOWS.map((w) => (
            <option key={w} value={w}>
              last {w} days
            </option>
          ))}
        </select>
      </div>
      {kpis.error && <p role="alert">{kpis.error}</p>}
      {kpis.loading && !kpis.data && <p class="muted">Loading the KPIs…</p>}
      {kpis.data && <Kpis r={kpis.data} />}
      <section aria-labelledby="ov-serving">
        <h2 id="ov-serving">What serves each placement</h2>
        {deployments.error && <p role="alert">{deployments.error}</p>}
        {deployments.data?.items.length === 0 && <p>No placement is deployed.</p>}
        <div class="ov-placements">
          {deployments.data?.items.map((d) => (
            <section key={d.name} class="card" aria-labelledby={`ov-p-${d.name}`}>
              <h3 id={`ov-p-${d.name}`}>
                <code>{d.name}</code> <span class="muted">revision {d.revision}</span>
              </h3>
              <PlacementFacts d={d} />
            </section>
          ))}
        </div>
        <p>
          <a href="#/deployments">Change a deployment or roll back</a>
        </p>
      </section>
    </>
  );
}

function Kpis({ r }: { r: KpiReport }) {
  const dayList = r.days.map((d) => d.day);
  const t = r.totals;
  const money = (v: number) => `${fmt(v, 2)} ${r.currency}`;
  return (
    <>
      <p class="muted">
        {r.days[0]?.day} to {r.days.at(-1)?.day} (UTC days of the readers' clocks; the last day is still running). Totals:
      </p>
      <ul class="ov-totals" aria-label="Totals of the window">
        <li>
          <span class="n" data-testid="total-page-views">
            {fmt(t.pageViews, 0)}
          </span>{' '}
          page views
        </li>
        <li>
          <span class="n">{fmt(t.reads, 0)}</span> reads
        </li>
        <li>
          <span class="n">{fmt(t.readsPerReader, 2)}</span> articles read per reader
        </li>
        {r.placements.map((p) => (
          <li key={p}>
            <span class="n">{pct(t.ctr[p]?.ctr, 2)}</span> CTR of <code>{p}</code>
          </li>
        ))}
        <li>
          <span class="n">{money(t.revenue)}</span> revenue ({fmt(t.subscriptions, 0)} subscriptions)
        </li>
      </ul>
      {r.revenueWarning && <p class="warning">{r.revenueWarning}</p>}
      <div class="ov-charts">
        <figure>
          <figcaption>Page views and reads per day</figcaption>
          <DailyLineChart
            days={dayList}
            label="Page views and reads per day; the table below gives the figures"
            format={(v) => fmt(v, 0)}
            integer
            series={[
              { label: 'page views', values: r.days.map((d) => d.pageViews) },
              { label: 'reads', values: r.days.map((d) => d.reads) },
            ]}
          />
        </figure>
        <figure>
          <figcaption>Articles read per reader</figcaption>
          <DailyLineChart
            days={dayList}
            label="Articles read per reader per day; the table below gives the figures"
            format={(v) => fmt(v, 2)}
            series={[{ label: 'reads per reader', values: r.days.map((d) => d.readsPerReader) }]}
          />
        </figure>
        <figure>
          <figcaption>Widget CTR per placement (clicks / live impressions)</figcaption>
          {r.placements.length === 0 ? (
            <p class="muted">No widget impression in the window.</p>
          ) : (
            <DailyLineChart
              days={dayList}
              label="Widget CTR per placement per day; the table below gives the figures"
              format={(v) => pct(v, 1)}
              series={r.placements.map((p) => ({ label: p, values: r.days.map((d) => d.ctr[p]?.ctr ?? null) }))}
            />
          )}
        </figure>
        <figure>
          <figcaption>Revenue per day ({r.currency})</figcaption>
          <DailyLineChart
            days={dayList}
            label={`Revenue per day in ${r.currency}; the table below gives the figures`}
            format={(v) => fmt(v, 2)}
            series={[{ label: `revenue (${r.currency})`, values: r.days.map((d) => d.revenue) }]}
          />
        </figure>
      </div>
      <h2 id="ov-table">Figures per day</h2>
      <div class="scroll">
        <table aria-labelledby="ov-table">
          <thead>
            <tr>
              <th scope="col">Day (UTC)</th>
              <th scope="col">Page views</th>
              <th scope="col">Reads</th>
              <th scope="col">Readers</th>
              <th scope="col">Reads per reader</th>
              {r.placements.map((p) => (
                <th key={p} scope="col">
                  CTR {p}
                </th>
              ))}
              <th scope="col">Subscriptions</th>
              <th scope="col">Revenue ({r.currency})</th>
            </tr>
          </thead>
          <tbody>
            {r.days.map((d) => (
              <tr key={d.day}>
                <th scope="row">{d.day}</th>
                <td>{fmt(d.pageViews, 0)}</td>
                <td>{fmt(d.reads, 0)}</td>
                <td>{fmt(d.readers, 0)}</td>
                <td>{fmt(d.readsPerReader, 2)}</td>
                {r.placements.map((p) => {
                  const c = d.ctr[p];
                  return (
                    <td key={p} title={c ? `${c.clicks} clicks / ${c.impressions} impressions` : undefined}>
                      {pct(c?.ctr, 2)}
                    </td>
                  );
                })}
                <td>{fmt(d.subscriptions, 0)}</td>
                <td>
                  {fmt(d.revenue, 2)}
                  {d.unpriced.length > 0 && (
                    <span class="muted"> (+ {d.unpriced.map((u) => `${fmt(u.amount, 2)} ${u.currency}`).join(', ')} unpriced)</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
