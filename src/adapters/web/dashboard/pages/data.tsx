// The Data page (issue 20, page 7): the data report of GET /v1/admin/data/report (src/app/data-report.ts):
// the alerts first, then quality, stability per day, feature drift, model decay and the signal part.
// The report replays the window's events, so it can take many seconds on a big database: the page
// says it is computing and for how long.
import { useEffect, useState } from 'preact/hooks';
import uPlot from 'uplot';
import type { DataReport, DayFigures, FeatureDrift, ModelDecay, QualityReport } from '../../../../app/data-report.js';
import type { DataSignal, MetricLift } from '../../../../app/data-signal.js';
import { api } from '../api.js';
import { useUplot } from '../use-uplot.js';
import { Axis, domainOf, IntervalBar } from '../charts.js';
import { fmt, pct, useLoad } from '../use-load.js';
import { DayWindowFields, lastDays, type DayWindow } from './day-window.js';
import {
  CTR_ALPHA,
  CTR_MIN_IMPRESSIONS,
  CTR_MIN_RELATIVE_CHANGE,
  FEATURE_KS_ALPHA,
  FEATURE_KS_D_ALERT,
  FEATURE_MIN_ROWS,
  MODEL_DECAY_AUC_DROP,
  PSI_ALERT,
  PSI_MODERATE,
} from './thresholds.js';

const time = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
/** The two-sided normal quantile of a 95% interval. */
const Z95 = 1.959963984540054;

const CHECKS: Record<string, string> = {
  ctr: 'CTR',
  section_ctr: 'Section CTR',
  section_mix: 'Section mix',
  reader_activity: 'Reader activity',
  feature_psi: 'Feature PSI',
  feature_ks: 'Feature KS',
  model_decay: 'Model decay',
};

interface ReportWindow extends DayWindow {
  placement: string;
}

/** The default window: the 14 UTC days up to and including today (until is tomorrow's midnight, excluded). */
const defaultWindow = (): ReportWindow => ({ ...lastDays(14), placement: '' });

const query = (w: ReportWindow) =>
  new URLSearchParams({ since: w.since, until: w.until, ...(w.placement ? { placement: w.placement } : {}) }).toString();

export function Data(_: { rest: string[] }) {
  const [applied, setApplied] = useState<ReportWindow>(defaultWindow);
  const [form, setForm] = useState<ReportWindow>(applied);
  const placements = useLoad(() => api<{ items: { name: string }[] }>('GET', '/v1/admin/deployments'), []);
  const report = useLoad(() => api<DataReport>('GET', `/v1/admin/data/report?${query(applied)}`), [applied]);
  return (
    <>
      <form
        class="row window-form"
        aria-label="Report window"
        onSubmit={(e) => {
          e.preventDefault();
          if (JSON.stringify(form) === JSON.stringify(applied)) report.reload();
          else setApplied(form);
        }}
      >
        <DayWindowFields idPrefix="data" form={form} setForm={setForm} />
        <div>
          <label for="data-placement">Placement of the drift and decay</label>
          <select id="data-placement" value={form.placement} onChange={(e) => setForm({ ...form, placement: e.currentTarget.value })}>
            <option value="">the one with most impressions</option>
            {placements.data?.items.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
        <div style={{ alignSelf: 'flex-end' }}>
          <button type="submit" disabled={report.loading}>
            Show the report
          </button>
        </div>
      </form>
      <div aria-busy={report.loading} aria-live="polite">
        {report.loading && <Computing />}
        {report.error && <p role="alert">{report.error}</p>}
        {report.data && !report.loading && <ReportBody r={report.data} />}
      </div>
    </>
  );
}

/** "Computing… N s": the report may take a while, and the page should not look stuck. */
function Computing() {
  const [s, setS] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setS((x) => x + 1), 1000);
    return () => clearInterval(t);
  }, []);
  return (
    <p role="status" class="muted">
      Computing the data report ({s} s): it replays the window's events and can take many seconds on a big database.
    </p>
  );
}

function ReportBody({ r }: { r: DataReport }) {
  return (
    <>
      <p class="muted">
        Window {time(r.window.sinceTs)} to {time(r.window.untilTs)} UTC
        {r.window.placement ? `, placement ${r.window.placement}` : ''}; generated {time(r.generatedTs)} UTC.
      </p>
      <Alerts r={r} />
      <Quality q={r.quality} />
      <Stability days={r.stability.days} alerts={r.alerts} />
      <section aria-labelledby="drift-h">
        <h2 id="drift-h">Feature drift</h2>
        {r.stability.features ? <Features f={r.stability.features} /> : <p>{r.stability.featureNote}</p>}
      </section>
      <section aria-labelledby="decay-h">
        <h2 id="decay-h">Model decay</h2>
        {r.stability.modelDecay ? <Decay m={r.stability.modelDecay} /> : <p>{r.stability.modelNote}</p>}
      </section>
      <section aria-labelledby="signal-h">
        <h2 id="signal-h">Signal</h2>
        {r.signal ? <Signal s={r.signal} /> : <p>No signal check: the window has no placement with impressions.</p>}
      </section>
    </>
  );
}

function Alerts({ r }: { r: DataReport }) {
  if (r.alerts.length === 0)
    return (
      <section aria-labelledby="alerts-h">
        <h2 id="alerts-h">Alerts</h2>
        <p data-testid="no-alerts">No threshold crossed in the window.</p>
      </section>
    );
  return (
    <section aria-labelledby="alerts-h" class="warning">
      <h2 id="alerts-h" style={{ marginTop: '0.3rem' }}>
        {r.alerts.length} {r.alerts.length === 1 ? 'alert' : 'alerts'}
      </h2>
      <div class="scroll">
        <table class="alerts">
          <caption class="sr-only">Every threshold crossed, in day order</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Check</th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            {r.alerts.map((a, i) => (
              <tr key={i}>
                <td style={{ whiteSpace: 'nowrap' }}>{a.day}</td>
                <td>{CHECKS[a.check] ?? a.check}</td>
                <td>{a.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** "a: 3, b: 2" for a count map, largest first. */
const counts = (m: Record<string, number>) =>
  Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${fmt(v, 0)}`)
    .join(', ') || 'none';

function Quality({ q }: { q: QualityReport }) {
  return (
    <section aria-labelledby="quality-h">
      <h2 id="quality-h">Quality</h2>
      <dl class="facts quality">
        <dt>Events</dt>
        <dd data-testid="events">{fmt(q.events, 0)}</dd>
        <dt>By type</dt>
        <dd>{counts(q.byType)}</dd>
        <dt>Rejected</dt>
        <dd>
          {fmt(q.rejections.total, 0)}
          {q.rejections.total > 0 && ` (${counts(q.rejections.byReason)})`}
        </dd>
        <dt>Duplicates, conflicts</dt>
        <dd>
          {fmt(q.duplicates, 0)} duplicates (same id and payload), {fmt(q.conflicts, 0)} conflicts (same id, another payload),{' '}
          {fmt(q.sameContentRepeats, 0)} repeats under another id
        </dd>
        <dt>Unknown articles</dt>
        <dd>
          {fmt(q.unknownArticles.events, 0)} of {fmt(q.unknownArticles.withArticle, 0)} events naming an article (
          {pct(q.unknownArticles.share)})
        </dd>
        <dt>Orphan impressions</dt>
        <dd>
          {fmt(q.impressionsWithoutServe.count, 0)} of {fmt(q.impressionsWithoutServe.impressions, 0)} impressions have no served response (
          {pct(q.impressionsWithoutServe.share)})
        </dd>
        <dt>Orphan clicks</dt>
        <dd>
          {fmt(q.clicksWithoutImpression.count, 0)} of {fmt(q.clicksWithoutImpression.clicks, 0)} clicks have no impression (
          {pct(q.clicksWithoutImpression.share)})
        </dd>
        <dt>Clock skew</dt>
        <dd>
          {q.clockSkewMs.median === null
            ? 'no event'
            : `median ${fmt(q.clockSkewMs.median / 1000, 1)} s, 99th percentile ${fmt((q.clockSkewMs.p99 ?? 0) / 1000, 1)} s (|client − received| over ${fmt(q.clockSkewMs.events, 0)} events)`}
        </dd>
        <dt>Bots</dt>
        <dd>{q.bots.note}</dd>
        <dt>Catalog</dt>
        <dd>
          {fmt(q.catalog.articles, 0)} articles, {fmt(q.catalog.withoutText, 0)} without text, {fmt(q.catalog.withoutSection, 0)} without a
          section
        </dd>
      </dl>
    </section>
  );
}

const COLOURS = ['#0a58ca', '#b45309', '#0f766e', '#7c3aed', '#be123c', '#6b7280'];

function Stability({ days, alerts }: { days: DayFigures[]; alerts: DataReport['alerts'] }) {
  const placements = [...new Set(days.flatMap((d) => Object.keys(d.ctr)))].sort();
  const flagged = new Set(alerts.filter((a) => a.check === 'ctr').map((a) => `${a.day} ${a.subject}`));
  const sectionRows = days.flatMap((d) =>
    Object.entries(d.sectionCtr).flatMap(([p, bySection]) => Object.entries(bySection).map(([s, c]) => ({ day: d.day, p, s, c }))),
  );
  return (
    <section aria-labelledby="stability-h">
      <h2 id="stability-h">Stability per day</h2>
      <p class="muted">
        A day's CTR alerts when the two-proportion test against its reference days has p &lt; {CTR_ALPHA} and the CTR moved by at least{' '}
        {pct(CTR_MIN_RELATIVE_CHANGE, 0)}, on days with at least {fmt(CTR_MIN_IMPRESSIONS, 0)} impressions. The section mix and reader
        activity alert when their PSI against the day before is above {PSI_ALERT}.
      </p>
      {placements.length > 0 && <CtrChart days={days} placements={placements} />}
      <div class="scroll">
        <table class="days">
          <caption class="sr-only">Per UTC day: CTR per placement (impressions), reads, active readers and reads per reader</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              {placements.map((p) => (
                <th key={p} scope="col">
                  CTR {p}
                </th>
              ))}
              <th scope="col">Reads</th>
              <th scope="col">Readers</th>
              <th scope="col">Reads per reader</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr key={d.day}>
                <th scope="row" style={{ whiteSpace: 'nowrap' }}>
                  {d.day}
                </th>
                {placements.map((p) => {
                  const c = d.ctr[p];
                  const alert = flagged.has(`${d.day} ${p}`);
                  return (
                    <td key={p} class={alert ? 'error' : undefined}>
                      {c ? `${pct(c.ctr, 2)} (${fmt(c.impressions, 0)})` : '–'}
                      {alert && <strong> alert</strong>}
                    </td>
                  );
                })}
                <td>{fmt(d.reads, 0)}</td>
                <td>{fmt(d.activeReaders, 0)}</td>
                <td>{fmt(d.readsPerReader, 2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {sectionRows.length > 0 && (
        <details>
          <summary>CTR per section shown ({sectionRows.length} rows)</summary>
          <div class="scroll">
            <table class="sections">
              <caption class="sr-only">Per day, placement and section of the article shown: impressions, clicks and CTR</caption>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Placement</th>
                  <th scope="col">Section</th>
                  <th scope="col">Impressions</th>
                  <th scope="col">Clicks</th>
                  <th scope="col">CTR</th>
                </tr>
              </thead>
              <tbody>
                {sectionRows.map(({ day, p, s, c }) => (
                  <tr key={`${day} ${p} ${s}`}>
                    <td>{day}</td>
                    <td>{p}</td>
                    <td>{s}</td>
                    <td>{fmt(c.impressions, 0)}</td>
                    <td>{fmt(c.clicks, 0)}</td>
                    <td>{pct(c.ctr, 2)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      )}
    </section>
  );
}

/** CTR per placement per day (uPlot, time axis in UTC days; the table below is its text alternative). */
function CtrChart({ days, placements }: { days: DayFigures[]; placements: string[] }) {
  const el = useUplot(
    () => {
      const data: uPlot.AlignedData = [
        days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000),
        ...placements.map((p) => days.map((d) => d.ctr[p]?.ctr ?? null)),
      ];
      return {
        options: {
          tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
          axes: [{}, { label: 'CTR', size: 60, values: (_u, ticks) => ticks.map((t) => `${(t * 100).toFixed(1)}%`) }],
          series: [
            { label: 'day' },
            ...placements.map((p, i) => ({ label: p, stroke: COLOURS[i % COLOURS.length]!, width: 2, points: { show: true } })),
          ],
        },
        data,
      };
    },
    200,
    [days, placements.join(',')],
  );
  return <div ref={el} class="uplot-box" role="img" aria-label="CTR per placement per day; the table below gives the figures" />;
}

function Features({ f }: { f: FeatureDrift }) {
  const thin = f.halves.some((h) => h.rows < FEATURE_MIN_ROWS);
  return (
    <>
      <p class="muted">
        Placement {f.placement}: the window's first half ({fmt(f.halves[0]?.rows, 0)} examples, {fmt(f.halves[0]?.sampled, 0)} sampled)
        against its last ({fmt(f.halves[1]?.rows, 0)}, {fmt(f.halves[1]?.sampled, 0)} sampled). PSI over the first half's deciles: moderate
        from {PSI_MODERATE}, alert above {PSI_ALERT}; KS alerts when D ≥ {FEATURE_KS_D_ALERT} and p &lt; {FEATURE_KS_ALPHA}.
        {thin && ` A half has fewer than ${fmt(FEATURE_MIN_ROWS, 0)} examples: the figures are shown, without alerts.`}
      </p>
      <div class="scroll">
        <table class="features">
          <caption class="sr-only">PSI and KS of each feature between the halves of the window</caption>
          <thead>
            <tr>
              <th scope="col">Feature</th>
              <th scope="col">PSI</th>
              <th scope="col">Level</th>
              <th scope="col">KS D</th>
              <th scope="col">KS p</th>
            </tr>
          </thead>
          <tbody>
            {f.features.map((x) => {
              const over = !thin && (x.psi > PSI_ALERT || (x.ksD >= FEATURE_KS_D_ALERT && x.ksP < FEATURE_KS_ALPHA));
              return (
                <tr key={x.name} class={over ? 'error' : undefined}>
                  <th scope="row">{x.name}</th>
                  <td>{fmt(x.psi, 3)}</td>
                  <td>{x.level}</td>
                  <td>{fmt(x.ksD, 3)}</td>
                  <td>{x.ksP < 1e-4 ? x.ksP.toExponential(1) : fmt(x.ksP, 4)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}

function Decay({ m }: { m: ModelDecay }) {
  return (
    <>
      <dl class="facts">
        <dt>Model</dt>
        <dd>
          model@{m.version} on {m.placement}
        </dd>
        <dt>Offline AUC</dt>
        <dd>{fmt(m.offlineAuc, 3)} (stored at training)</dd>
        <dt>AUC now</dt>
        <dd>
          {fmt(m.currentAuc, 3)} on {fmt(m.examples, 0)} examples of the window's latest half
        </dd>
        <dt>Drop</dt>
        <dd class={m.drop !== null && m.drop > MODEL_DECAY_AUC_DROP ? 'error' : undefined}>
          {fmt(m.drop, 3)} (alert above {MODEL_DECAY_AUC_DROP})
        </dd>
      </dl>
      {m.overlapsTraining && <p class="muted">The latest half overlaps the model's training window: its AUC there is optimistic.</p>}
    </>
  );
}

function Signal({ s }: { s: DataSignal }) {
  const lifts: [string, MetricLift][] = [];
  if (s.lift.auc) lifts.push(['AUC', s.lift.auc]);
  if (s.lift.ndcg10) lifts.push(['nDCG@10', s.lift.ndcg10]);
  const liftDomain = domainOf(lifts.flatMap(([, l]) => [l.low, l.high]));
  const curve = s.learningCurve.filter((p) => p.auc !== null);
  const ends = curve.flatMap((p) => [p.auc! - Z95 * (p.se ?? 0), p.auc! + Z95 * (p.se ?? 0)]);
  const lo = Math.min(...ends, 0.5);
  const hi = Math.max(...ends, 0.5);
  const pad = Math.max(0.01, (hi - lo) * 0.05);
  const curveDomain: [number, number] = [lo - pad, hi + pad];
  return (
    <>
      <p data-testid="verdict">
        <strong>{s.verdict}</strong>
      </p>
      <p class="muted">
        Placement {s.placement}: {fmt(s.window.impressions, 0)} live impressions; trained on {fmt(s.window.train.impressions, 0)} (
        {fmt(s.window.train.clicks, 0)} clicks), tested on {fmt(s.window.test.impressions, 0)} ({fmt(s.window.test.clicks, 0)} clicks)
        {s.window.splitTs !== null && ` from ${time(s.window.splitTs)} UTC`}. Best recommender: {s.lift.best ?? 'none'}.
      </p>
      {lifts.length > 0 && (
        <div class="scroll">
          <table class="lift">
            <caption class="sr-only">Lift of the best recommender over a random ranking, with 95% paired bootstrap intervals</caption>
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col">Best, random</th>
                <th scope="col">Lift (95% interval)</th>
                <th scope="col" class="chart-col">
                  Interval
                </th>
              </tr>
            </thead>
            <tbody>
              {lifts.map(([name, l]) => (
                <tr key={name}>
                  <th scope="row">{name}</th>
                  <td>
                    {fmt(l.best, 3)}, {fmt(l.random, 3)} <span class="muted">({fmt(l.impressions, 0)} impressions)</span>
                  </td>
                  <td>
                    {fmt(l.lift, 3)} ({fmt(l.low, 3)} to {fmt(l.high, 3)})
                  </td>
                  <td class="chart-col">
                    <IntervalBar
                      lo={l.low}
                      est={l.lift}
                      hi={l.high}
                      domain={liftDomain}
                      tone={l.low > 0 ? 'good' : l.high < 0 ? 'bad' : 'none'}
                      label={`${name} lift ${fmt(l.lift, 3)}, 95% interval ${fmt(l.low, 3)} to ${fmt(l.high, 3)}`}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Axis domain={liftDomain} format={(v) => fmt(v, 2)} />
        </div>
      )}
      <p class="muted">
        {s.lift.bootstrap.resamples} resamples, {s.lift.bootstrap.method}, seed {s.lift.bootstrap.seed}. Validation AUC of the candidates:{' '}
        {s.lift.candidates.map((c) => `${c.label} ${fmt(c.validationAuc, 3)}`).join(', ') || 'none'}.
      </p>
      <h3>Learning curve</h3>
      <div class="scroll">
        <table class="curve">
          <caption class="sr-only">
            The learned ranker's AUC on the test part by share of the training part used, with 95% intervals
          </caption>
          <thead>
            <tr>
              <th scope="col">Training share</th>
              <th scope="col">Impressions</th>
              <th scope="col">AUC (± 1.96 se)</th>
              <th scope="col" class="chart-col">
                Interval
              </th>
            </tr>
          </thead>
          <tbody>
            {s.learningCurve.map((p) => (
              <tr key={p.share}>
                <th scope="row">{pct(p.share, 0)}</th>
                <td>{fmt(p.trainImpressions, 0)}</td>
                <td>
                  {fmt(p.auc, 3)}
                  {p.se !== null && ` ± ${fmt(Z95 * p.se, 3)}`}
                </td>
                <td class="chart-col">
                  {p.auc !== null && (
                    <IntervalBar
                      lo={p.auc - Z95 * (p.se ?? 0)}
                      est={p.auc}
                      hi={p.auc + Z95 * (p.se ?? 0)}
                      domain={curveDomain}
                      label={`${pct(p.share, 0)} of the training part: AUC ${fmt(p.auc, 3)}`}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p>{s.moreData.sentence}</p>
    </>
  );
}
