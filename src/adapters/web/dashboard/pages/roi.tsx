import { useState } from 'preact/hooks';
import type uPlot from 'uplot';
import type { RoiResult } from '../../../../app/roi.js';
import { newspaperTemplate } from '../../../../core/roi/template.js';
import { api, describeError } from '../api.js';
import { useUplot } from '../use-uplot.js';
import { Axis, domainOf, QuantileBand } from '../charts.js';
import { fmt, pct, useLoad, type Loaded } from '../use-load.js';

/** GET /v1/admin/roi/revisions: each stored `roi update`, oldest first. */
interface RoiRevisionJson {
  id: number;
  name: string;
  createdTs: number;
  result: RoiResult;
}

const money = (v: number, currency: string | null) => `${fmt(v, 0)}${currency ? ` ${currency}` : ''}`;
const short = (v: number) => {
  const a = Math.abs(v);
  return a >= 1e6 ? `${fmt(v / 1e6, 1)}M` : a >= 1e3 ? `${fmt(v / 1e3, 0)}k` : fmt(v, 0);
};

export function Roi(_: { rest: string[] }) {
  const revs = useLoad(() => api<{ revisions: RoiRevisionJson[] }>('GET', '/v1/admin/roi/revisions'), []);
  const latest = revs.data?.revisions.at(-1) ?? null;
  const [doc, setDoc] = useState(() => JSON.stringify(newspaperTemplate(), null, 2));
  const [result, setResult] = useState<RoiResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (e: Event) => {
    e.preventDefault();
    setError(null);
    let parsed: unknown;
    try {
      parsed = JSON.parse(doc);
    } catch (err) {
      setError(`The document is not JSON: ${describeError(err)}`);
      return;
    }
    setBusy(true);
    try {
      setResult(await api<RoiResult>('POST', '/v1/admin/roi', parsed));
    } catch (err) {
      setResult(null);
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <form onSubmit={run} class="roi-form">
        <label for="roi-doc">Scenario document (JSON; the template of `readnext roi init`: edit the ranges)</label>
        <textarea id="roi-doc" rows={14} spellcheck={false} value={doc} onInput={(e) => setDoc(e.currentTarget.value)} />
        <div class="row">
          <button type="submit" disabled={busy}>
            {busy ? 'Analysing…' : 'Run the analysis'}
          </button>
          <button type="button" class="link" onClick={() => setDoc(JSON.stringify(newspaperTemplate(), null, 2))}>
            Reset to the template
          </button>
        </div>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
      </form>
      {result ? (
        <RoiResultView r={result} title="Net value of each option" />
      ) : (
        latest && (
          <RoiResultView
            r={latest.result}
            title={`Net value of each option: the latest revision (${latest.id}, ${latest.name}, ${when(latest.createdTs)})`}
          />
        )
      )}
      <Revisions revs={revs} />
    </>
  );
}

const when = (ts: number) => `${new Date(ts).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

function RoiResultView({ r, title }: { r: RoiResult; title: string }) {
  const options = Object.entries(r.options);
  const domain = domainOf(options.flatMap(([, o]) => [o.quantiles.p5, o.quantiles.p95]));
  const evppi = r.ranking.map((name) => [name, r.evppi[name] ?? 0] as const);
  const top = Math.max(...evppi.map(([, v]) => v), 1e-12);
  return (
    <section aria-labelledby="roi-result-h" class="card">
      <h2 id="roi-result-h">{title}</h2>
      <p>
        Best on average: <strong>{r.best}</strong>. Expected value of perfect information (EVPI): {money(r.evpi, r.currency)} (±{' '}
        {fmt(r.evpi_se, 0)}), from {fmt(r.samples, 0)} samples.
      </p>
      <div class="scroll">
        <table class="options">
          <caption class="sr-only">Per option: net value quantiles, P(positive), P(best)</caption>
          <thead>
            <tr>
              <th scope="col">Option</th>
              <th scope="col">Mean</th>
              <th scope="col">Median (p5 to p95)</th>
              <th scope="col">P(&gt; 0)</th>
              <th scope="col">P(best)</th>
              <th scope="col" class="chart-col">
                p5–p95, p25–p75, median
              </th>
            </tr>
          </thead>
          <tbody>
            {options.map(([name, o]) => (
              <tr key={name} data-option={name}>
                <th scope="row">{name}</th>
                <td>{money(o.mean, r.currency)}</td>
                <td>
                  {short(o.quantiles.p50)} ({short(o.quantiles.p5)} to {short(o.quantiles.p95)})
                </td>
                <td>{pct(o.p_positive)}</td>
                <td>{pct(o.p_best)}</td>
                <td class="chart-col">
                  <QuantileBand
                    q={o.quantiles}
                    domain={domain}
                    label={`${name}: median ${short(o.quantiles.p50)}, half the outcomes between ${short(o.quantiles.p25)} and ${short(o.quantiles.p75)}, 90% between ${short(o.quantiles.p5)} and ${short(o.quantiles.p95)}`}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <Axis domain={domain} format={short} />
      </div>
      <h3>What to measure next (EVPPI)</h3>
      <p class="muted">What knowing each input exactly would be worth: lift the top uncertainty first.</p>
      <ol class="evppi">
        {evppi.map(([name, v]) => (
          <li key={name}>
            <span class="name">{name}</span>
            <span class="bar" aria-hidden="true">
              <span style={{ width: `${(v / top) * 100}%` }} />
            </span>
            <span class="value">{money(v, r.currency)}</span>
          </li>
        ))}
      </ol>
      {r.planned_test && (
        <>
          <h3>The planned test</h3>
          <p>
            {r.planned_test.best.n === 0
              ? `No test of ${r.planned_test.input} pays for itself: decide now.`
              : `A test of ${r.planned_test.input} with ${fmt(r.planned_test.best.n, 0)} readers per arm pays best: it is worth ${money(r.planned_test.best.evsi, r.currency)} (EVSI) for a cost of ${money(r.planned_test.best.cost, r.currency)}, net ${money(r.planned_test.best.net, r.currency)}.`}{' '}
            A perfect measurement of it would be worth {money(r.planned_test.evppi, r.currency)}.
          </p>
        </>
      )}
    </section>
  );
}

function Revisions({ revs }: { revs: Loaded<{ revisions: RoiRevisionJson[] }> }) {
  const names = [...new Set(revs.data?.revisions.map((r) => r.name) ?? [])];
  const [name, setName] = useState<string | null>(null);
  const chosen = name ?? names.at(-1) ?? null;
  const rows = revs.data?.revisions.filter((r) => r.name === chosen) ?? [];
  return (
    <section aria-labelledby="roi-rev-h">
      <h2 id="roi-rev-h">Revisions</h2>
      {revs.error && <p role="alert">{revs.error}</p>}
      {revs.data && rows.length === 0 && <p>No revision stored yet: `readnext roi update` (or POST /v1/admin/roi/update) stores one.</p>}
      {names.length > 1 && (
        <p>
          <label for="roi-name">Scenario</label>{' '}
          <select id="roi-name" value={chosen ?? ''} onChange={(e) => setName(e.currentTarget.value)}>
            {names.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </p>
      )}
      {rows.length > 0 && (
        <>
          <PBestChart rows={rows} />
          <div class="scroll">
            <table>
              <caption>P(best) per revision of {chosen}</caption>
              <thead>
                <tr>
                  <th scope="col">Revision</th>
                  <th scope="col">When (UTC)</th>
                  {Object.keys(rows[0]!.result.options).map((o) => (
                    <th scope="col" key={o}>
                      {o}
                    </th>
                  ))}
                  <th scope="col">EVPI</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.id}>
                    <th scope="row">{r.id}</th>
                    <td>{when(r.createdTs).slice(0, 16)}</td>
                    {Object.values(r.result.options).map((o, i) => (
                      <td key={i}>{pct(o.p_best)}</td>
                    ))}
                    <td>{money(r.result.evpi, r.result.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <RevisionBands rows={rows} />
        </>
      )}
    </section>
  );
}

/**
 * Each option's net value per revision as quantile bands on one axis: the uncertainty shrinking
 * (or not) as production measures the inputs.
 */
function RevisionBands({ rows }: { rows: RoiRevisionJson[] }) {
  const options = Object.keys(rows[0]!.result.options).filter((o) =>
    rows.some((r) => r.result.options[o]!.quantiles.p95 !== r.result.options[o]!.quantiles.p5),
  );
  const domain = domainOf(
    rows.flatMap((r) => options.flatMap((o) => [r.result.options[o]!.quantiles.p5, r.result.options[o]!.quantiles.p95])),
  );
  return (
    <div class="scroll">
      <table class="options">
        <caption>Net value per revision: p5–p95, p25–p75 and the median</caption>
        <thead>
          <tr>
            <th scope="col">Option</th>
            <th scope="col">Revision</th>
            <th scope="col">Median (p5 to p95)</th>
            <th scope="col" class="chart-col">
              p5–p95, p25–p75, median
            </th>
          </tr>
        </thead>
        <tbody>
          {options.flatMap((o) =>
            rows.map((r) => {
              const q = r.result.options[o]!.quantiles;
              return (
                <tr key={`${o} ${r.id}`}>
                  <th scope="row">{o}</th>
                  <td>{r.id}</td>
                  <td>
                    {short(q.p50)} ({short(q.p5)} to {short(q.p95)})
                  </td>
                  <td class="chart-col">
                    <QuantileBand
                      q={q}
                      domain={domain}
                      label={`${o}, revision ${r.id}: median ${short(q.p50)}, 90% between ${short(q.p5)} and ${short(q.p95)}`}
                    />
                  </td>
                </tr>
              );
            }),
          )}
        </tbody>
      </table>
      <Axis domain={domain} format={short} />
    </div>
  );
}

const COLOURS = ['#6b7280', '#0f766e', '#b45309', '#7c3aed', '#be123c'];

/** P(best) of each option across revisions (uPlot: a canvas chart of a few kilobytes; the table below is its text alternative). */
function PBestChart({ rows }: { rows: RoiRevisionJson[] }) {
  const el = useUplot(
    () => {
      const opts = Object.keys(rows[0]!.result.options);
      const data: uPlot.AlignedData = [rows.map((_, i) => i + 1), ...opts.map((o) => rows.map((r) => r.result.options[o]?.p_best ?? null))];
      return {
        options: {
          scales: { x: { time: false }, y: { range: [0, 1] } },
          axes: [
            { label: 'revision', incrs: [1, 2, 5, 10, 20, 50, 100], values: (_u, ticks) => ticks.map((t) => String(Math.round(t))) },
            { label: 'P(best)', values: (_u, ticks) => ticks.map((t) => `${Math.round(t * 100)}%`) },
          ],
          series: [
            { label: 'revision' },
            ...opts.map((o, i) => ({ label: o, stroke: COLOURS[i % COLOURS.length]!, width: 2, points: { show: true } })),
          ],
        },
        data,
      };
    },
    220,
    [rows],
    280,
  );
  return <div ref={el} class="uplot-box" role="img" aria-label="P(best) of each option per revision; the table below gives the figures" />;
}
