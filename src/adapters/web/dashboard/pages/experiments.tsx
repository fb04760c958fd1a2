import { useState } from 'preact/hooks';
import type { ExperimentReport } from '../../../../app/analysis.js';
import type { interleavingReport } from '../../../../app/reports.js';
import type { ExperimentTimeline } from '../../../../app/timeline.js';
import { api } from '../api.js';
import { Axis, domainOf, IntervalBar } from '../charts.js';
import { EstimateTimelineChart } from '../timeline-chart.js';
import { fmt, pct, useLoad } from '../use-load.js';
import { CreateExperiment, StartStop } from './experiment-form.js';

/** GET /v1/admin/experiments: the fields the list shows. */
interface ExperimentItem {
  id: string;
  name?: string;
  placement: string;
  status: string;
  kind: string;
  phase: number;
  arms: { name: string; weight: number }[];
  startedAt: string | null;
  stoppedAt: string | null;
}

/** The two-sided normal quantile for a 95% interval on one arm's value (value ± 1.96·se). */
const Z95 = 1.959963984540054;

export function Experiments({ rest }: { rest: string[] }) {
  const list = useLoad(() => api<{ items: ExperimentItem[] }>('GET', '/v1/admin/experiments'), []);
  const selected = rest[0];
  const item = list.data?.items.find((e) => e.id === selected);
  return (
    <>
      <CreateExperiment
        onCreated={(id) => {
          location.hash = `#/experiments/${encodeURIComponent(id)}`;
          list.reload();
        }}
      />
      {list.error && <p role="alert">{list.error}</p>}
      {list.data?.items.length === 0 && <p>No experiment yet.</p>}
      {list.data && list.data.items.length > 0 && (
        <div class="scroll">
          <table>
            <caption class="sr-only">Experiments</caption>
            <thead>
              <tr>
                <th scope="col">Experiment</th>
                <th scope="col">Placement</th>
                <th scope="col">Status</th>
                <th scope="col">Arms (weights)</th>
                <th scope="col">Started (UTC)</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((e) => (
                <tr key={e.id} aria-current={e.id === selected ? 'true' : undefined}>
                  <td>
                    <a href={`#/experiments/${encodeURIComponent(e.id)}`}>{e.id}</a>
                  </td>
                  <td>{e.placement}</td>
                  <td>
                    {e.status}
                    {e.phase > 1 ? ` (phase ${e.phase})` : ''}
                  </td>
                  <td>{e.arms.map((a) => `${a.name} ${fmt(a.weight)}`).join(', ')}</td>
                  <td>{e.startedAt ? e.startedAt.slice(0, 16).replace('T', ' ') : '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {selected && list.data && !item && <p role="alert">No experiment "{selected}".</p>}
      {item && <Experiment key={`${item.id} ${item.status}`} e={item} onChanged={list.reload} />}
    </>
  );
}

/** One experiment: start or stop it; once started, its report (and for interleaving, the team preference). */
function Experiment({ e, onChanged }: { e: ExperimentItem; onChanged: () => void }) {
  return (
    <section aria-labelledby="report-h">
      <h2 id="report-h">
        {e.status === 'draft' ? 'Draft' : 'Report'}: <code>{e.id}</code>
      </h2>
      <StartStop e={e} onChanged={onChanged} />
      {e.status === 'draft' ? (
        <p class="muted">A draft has no data: start it to assign readers.</p>
      ) : // Interleaving serves both teams to every reader: its result is the preference, not a per-arm report.
      e.kind === 'interleaving' ? (
        <Interleaving id={e.id} />
      ) : (
        <Report id={e.id} />
      )}
    </section>
  );
}

/** The report's engines (GET .../report?engine=): sequential intervals stay valid however often the report is looked at. */
const ENGINES = [
  { id: 'frequentist', label: 'Frequentist (fixed horizon: valid at the planned end only)' },
  { id: 'sequential', label: 'Sequential (always-valid confidence sequence: look any time)' },
  { id: 'bayesian', label: 'Bayesian (chance to win)' },
];

function Report({ id }: { id: string }) {
  const [engine, setEngine] = useState('frequentist');
  const r = useLoad(
    () => api<ExperimentReport>('GET', `/v1/admin/experiments/${encodeURIComponent(id)}/report?engine=${engine}`),
    [id, engine],
  );
  return (
    <div aria-busy={r.loading}>
      <label for="r-engine">Engine</label>
      <select id="r-engine" value={engine} onChange={(e) => setEngine(e.currentTarget.value)}>
        {ENGINES.map((x) => (
          <option key={x.id} value={x.id}>
            {x.label}
          </option>
        ))}
      </select>
      {r.loading && <p class="muted">Computing the report…</p>}
      {r.error && <p role="alert">{r.error}</p>}
      {r.data && <ReportBody r={r.data} />}
      {r.data && <Timeline id={id} r={r.data} />}
    </div>
  );
}

/** A time in UTC to the minute, or to the second when `seconds` (points less than a minute apart). */
const utc = (ts: number, seconds = false) =>
  new Date(ts)
    .toISOString()
    .slice(0, seconds ? 19 : 16)
    .replace('T', ' ');

/**
 * The estimate over time (GET .../timeline, app/timeline.ts): per treatment arm, its change against
 * control in the chosen metric with its always-valid confidence sequence, one point per snapshot of
 * the data and one for now; the table under the chart gives the same points.
 */
function Timeline({ id, r }: { id: string; r: ExperimentReport }) {
  const [metric, setMetric] = useState(r.design.primaryMetric);
  const t = useLoad(
    () =>
      api<ExperimentTimeline>(
        'GET',
        `/v1/admin/experiments/${encodeURIComponent(id)}/timeline?phase=${r.phase}&metric=${encodeURIComponent(metric)}&alpha=${r.alpha}`,
      ),
    [id, r.phase, metric, r.alpha],
  );
  const name = r.metrics.find((m) => m.metric === metric)?.name ?? metric;
  const level = Math.round((1 - r.alpha) * 100);
  const d = t.data;
  const arms = d?.points[0]?.arms.map((a) => a.arm) ?? [];
  const seconds = (d?.points ?? []).some((p, i, all) => i > 0 && utc(p.ts) === utc(all[i - 1]!.ts));
  return (
    <section class="card" aria-labelledby="tl-h" aria-busy={t.loading}>
      <h3 id="tl-h">Over time</h3>
      <p class="muted">
        Each treatment's change against control, with its always-valid {level}% confidence sequence (whatever the engine above, this chart
        is sequential): unlike a fixed-horizon interval it may be read at every point. One point per snapshot of the data, and one for now.
      </p>
      <label for="tl-metric">Metric over time</label>
      <select id="tl-metric" value={metric} onChange={(e) => setMetric(e.currentTarget.value)}>
        {r.metrics.map((m) => (
          <option key={m.metric} value={m.metric}>
            {m.name}
          </option>
        ))}
      </select>
      {t.loading && !d && <p class="muted">Loading the timeline…</p>}
      {t.error && <p role="alert">{t.error}</p>}
      {d && d.points.length > 0 && (
        <>
          <figure style={{ margin: '0.5rem 0', minWidth: 0 }}>
            <figcaption>{name}: change against control</figcaption>
            <EstimateTimelineChart
              ts={d.points.map((p) => p.ts)}
              label={`${name}: each treatment's change against control over time with its ${level}% confidence sequence; the table below gives the figures`}
              format={(v) => pct(v, 1)}
              series={arms.map((arm, i) => ({
                label: arm,
                estimate: d.points.map((p) => p.arms[i]?.estimate ?? null),
                lo: d.points.map((p) => p.arms[i]?.ci?.[0] ?? null),
                hi: d.points.map((p) => p.arms[i]?.ci?.[1] ?? null),
              }))}
            />
          </figure>
          <div class="scroll">
            <table data-testid="timeline-table">
              <caption class="sr-only">
                {name}: change against control at each point, with its {level}% confidence sequence
              </caption>
              <thead>
                <tr>
                  <th scope="col">Data through (UTC)</th>
                  {arms.map((a) => (
                    <th key={a} scope="col">
                      {a}: readers, change ({level}% sequence)
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {d.points.map((p) => (
                  <tr key={p.ts}>
                    <th scope="row">{utc(p.ts, seconds)}</th>
                    {p.arms.map((a) => (
                      <td key={a.arm}>
                        {fmt(a.n, 0)}: {pct(a.estimate)} ({a.ci ? `${pct(a.ci[0])} to ${pct(a.ci[1])}` : 'no estimate'})
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

/** GET /v1/admin/experiments/:id/interleaving (app/reports.ts interleavingReport). */
type InterleavingAnswer = Awaited<ReturnType<typeof interleavingReport>>;

/** Two colours of the Okabe-Ito set (distinguishable with the common colour-vision deficiencies), and grey for ties. */
const TEAM_COLOURS = ['#0072b2', '#d55e00', '#8c959f'];

/**
 * The team preference: each reader who clicked is one vote for the team with more of their clicks
 * (ties apart), drawn as one bar split by vote; the sign test's two-sided p-value says whether the
 * split differs from 50/50 (core/experiments/interleaving.ts signTest).
 */
function Interleaving({ id }: { id: string }) {
  const r = useLoad(() => api<InterleavingAnswer>('GET', `/v1/admin/experiments/${encodeURIComponent(id)}/interleaving`), [id]);
  const d = r.data;
  const votes = d ? d.readersPreferringA + d.readersPreferringB + d.readersTied : 0;
  const parts = d
    ? [
        { label: `prefer ${d.teams[0]}`, n: d.readersPreferringA },
        { label: `prefer ${d.teams[1]}`, n: d.readersPreferringB },
        { label: 'tied', n: d.readersTied },
      ]
    : [];
  return (
    <section class="card preference" aria-labelledby="pref-h" aria-busy={r.loading}>
      <h3 id="pref-h">Interleaving preference</h3>
      {r.error && <p role="alert">{r.error}</p>}
      {d && votes === 0 && <p>No reader has clicked an interleaved slate yet.</p>}
      {d && votes > 0 && (
        <>
          <div
            class="bar"
            role="img"
            aria-label={`Readers: ${parts.map((p) => `${p.n} ${p.label}`).join(', ')}; preference ${fmt(d.preference, 3)}, sign test p = ${fmt(d.pValue, 4)}`}
          >
            {parts.map((p, i) => (
              <span key={p.label} style={{ width: `${(p.n / votes) * 100}%`, background: TEAM_COLOURS[i] }} />
            ))}
          </div>
          <ul class="legend">
            {parts.map((p, i) => (
              <li key={p.label}>
                <span class="swatch" style={{ background: TEAM_COLOURS[i] }} aria-hidden="true" /> {fmt(p.n, 0)} readers {p.label}
              </li>
            ))}
          </ul>
          <p data-testid="preference">
            Preference for <strong>{d.teams[0]}</strong>: {fmt(d.preference, 3)} (from −1, every reader prefers {d.teams[1]}, to +1); clicks{' '}
            {fmt(d.clicksA, 0)} against {fmt(d.clicksB, 0)}. Sign test over readers (ties left out): p = {fmt(d.pValue, 4)}
            {d.pValue < 0.05 ? ', a significant preference at α = 0.05.' : ', no significant preference at α = 0.05.'}
          </p>
        </>
      )}
    </section>
  );
}

function ReportBody({ r }: { r: ExperimentReport }) {
  return (
    <>
      <p class="muted">
        Phase {r.phase}, {r.engine} engine, α = {r.alpha}
        {r.cuped ? ', CUPED' : ''}; data through {new Date(r.dataThroughTs).toISOString().slice(0, 16).replace('T', ' ')} UTC.
      </p>
      {r.srm.flag && (
        <p role="alert" class="warning">
          Sample ratio mismatch: the arms got {r.srm.observed.join(' / ')} readers against weights {r.srm.weights.join(' / ')} (p ={' '}
          {r.srm.pValue.toExponential(2)}). Assignment or logging is broken; do not trust these results.
        </p>
      )}
      {r.trust
        .filter((t) => t.code !== 'srm')
        .map((t) => (
          <p key={t.code} role="alert" class="warning">
            {t.message}
          </p>
        ))}
      <h3>Verdict</h3>
      <ul class="verdicts">
        {r.decisions.map((d) => (
          <li key={d.arm} class={`decision ${d.decision}`}>
            <strong>{d.arm}:</strong> {d.sentence}
          </li>
        ))}
      </ul>
      {r.metrics.map((m) => {
        const armIntervals = m.arms.filter((a) => a.value !== null && a.se !== null);
        const armDomain = domainOf(armIntervals.flatMap((a) => [a.value! - Z95 * a.se!, a.value! + Z95 * a.se!]));
        const cmpDomain = domainOf(m.comparisons.flatMap((c) => [c.ci[0], c.ci[1]]));
        return (
          <section key={m.metric} class="card metric" aria-labelledby={`m-${m.metric}`}>
            <h3 id={`m-${m.metric}`}>
              {m.name} <span class="muted">({m.role})</span>
            </h3>
            <div class="scroll">
              <table>
                <caption class="sr-only">{m.name} per arm, with 95% intervals</caption>
                <thead>
                  <tr>
                    <th scope="col">Arm</th>
                    <th scope="col">Readers</th>
                    <th scope="col">Value (95% interval)</th>
                    <th scope="col" class="chart-col">
                      Interval
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {m.arms.map((a) => {
                    const lo = a.value !== null && a.se !== null ? a.value - Z95 * a.se : null;
                    const hi = a.value !== null && a.se !== null ? a.value + Z95 * a.se : null;
                    return (
                      <tr key={a.arm}>
                        <th scope="row">{a.arm}</th>
                        <td>{fmt(a.n, 0)}</td>
                        <td>
                          {fmt(a.value, 4)} ({fmt(lo, 4)} to {fmt(hi, 4)})
                        </td>
                        <td class="chart-col">
                          {lo !== null && hi !== null && (
                            <IntervalBar
                              lo={lo}
                              est={a.value!}
                              hi={hi}
                              domain={armDomain}
                              label={`${a.arm}: ${fmt(a.value, 4)}, 95% interval ${fmt(lo, 4)} to ${fmt(hi, 4)}`}
                            />
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              <table>
                <caption class="sr-only">{m.name}: each treatment against the control (relative difference)</caption>
                <thead>
                  <tr>
                    <th scope="col">Against control</th>
                    <th scope="col">Change ({Math.round((1 - r.alpha) * 100)}% interval)</th>
                    <th scope="col" class="chart-col">
                      Interval
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {m.comparisons.map((c) => (
                    <tr key={c.arm}>
                      <th scope="row">{c.arm}</th>
                      <td>
                        {pct(c.estimate)} ({pct(c.ci[0])} to {pct(c.ci[1])})
                        {c.pValue !== null && <span class="muted"> p = {fmt(c.adjustedPValue ?? c.pValue, 4)}</span>}
                        {c.chanceToWin !== null && <span class="muted"> chance to win {pct(c.chanceToWin)}</span>}
                      </td>
                      <td class="chart-col">
                        <IntervalBar
                          lo={c.ci[0]}
                          est={c.estimate}
                          hi={c.ci[1]}
                          domain={cmpDomain}
                          tone={c.significant ? (c.estimate > 0 ? 'good' : 'bad') : 'none'}
                          label={`${c.arm} against control: ${pct(c.estimate)}, interval ${pct(c.ci[0])} to ${pct(c.ci[1])}`}
                        />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {m.comparisons.length > 0 && <Axis domain={cmpDomain} format={(v) => pct(v, 0)} />}
            </div>
            {m.comparisons.map((c) => (
              <p key={c.arm} class="verdict">
                {c.verdict}
              </p>
            ))}
          </section>
        );
      })}
    </>
  );
}
