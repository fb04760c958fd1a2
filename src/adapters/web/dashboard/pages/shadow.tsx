// The Shadow and off-policy page (issue 20, page 4): per placement, each shadow against the live
// recommender on the same requests (GET /v1/admin/shadow-report, src/app/reports.ts: latency,
// errors, overlap, would-have-clicked), and the off-policy estimates of a candidate from the
// placement's logged exploration (GET /v1/admin/ope, src/app/ope.ts): per estimator the clicks per
// slate with a 95% interval beside the live recommender's, its ESS and support, or why it refused.
// A refusal of the whole evaluation (409) is shown as its message.
import { useState } from 'preact/hooks';
import type { OpeReport } from '../../../../app/ope.js';
import type { RecommenderSideReport, ShadowReport } from '../../../../app/reports.js';
import type { PlacementConfig } from '../../../../core/recommend/placement.js';
import type { RecommenderConfig } from '../../../../core/recommend/types.js';
import { api, ApiError } from '../api.js';
import { Axis, domainOf, IntervalBar } from '../charts.js';
import { fmt, pct, useLoad } from '../use-load.js';
import { DAY_MS, DayWindowFields, lastDays, type DayWindow } from './day-window.js';

const rec = (r: RecommenderConfig) => `${r.kind}@${r.version}`;

/** The windows of the shadow report (its `since`; it reads at most `limit` serve records). */
const SINCE = [
  { label: 'the last hour', ms: 3_600_000 },
  { label: 'the last 24 hours', ms: DAY_MS },
  { label: 'the last 7 days', ms: 7 * DAY_MS },
  { label: 'the last 30 days', ms: 30 * DAY_MS },
] as const;

export function Shadow({ rest }: { rest: string[] }) {
  const deployments = useLoad(() => api<{ items: PlacementConfig[] }>('GET', '/v1/admin/deployments'), []);
  const items = deployments.data?.items ?? [];
  const chosen = items.find((d) => d.name === rest[0]) ?? items[0];
  return (
    <>
      {deployments.error && <p role="alert">{deployments.error}</p>}
      {deployments.loading && !deployments.data && <p class="muted">Loading placements…</p>}
      {deployments.data && items.length === 0 && <p>No placement is deployed.</p>}
      {chosen && (
        <>
          <div>
            <label for="shadow-placement">Placement</label>
            <select
              id="shadow-placement"
              value={chosen.name}
              onChange={(e) => {
                location.hash = `#/shadow/${encodeURIComponent(e.currentTarget.value)}`;
              }}
            >
              {items.map((d) => (
                <option key={d.name} value={d.name}>
                  {d.name}
                </option>
              ))}
            </select>
          </div>
          <ShadowSection key={chosen.name} d={chosen} />
          <Ope key={`ope-${chosen.name}`} d={chosen} />
        </>
      )}
    </>
  );
}

function ShadowSection({ d }: { d: PlacementConfig }) {
  const [since, setSince] = useState(1);
  const report = useLoad(() => {
    const from = new Date(Date.now() - SINCE[since]!.ms).toISOString();
    return api<ShadowReport>('GET', `/v1/admin/shadow-report?placement=${encodeURIComponent(d.name)}&since=${encodeURIComponent(from)}`);
  }, [d.name, since]);
  const r = report.data;
  return (
    <section aria-labelledby="shadow-h" aria-busy={report.loading}>
      <h2 id="shadow-h">Shadow against live</h2>
      <p class="muted">
        Live {rec(d.live)}; shadows {d.shadows.length ? d.shadows.map(rec).join(', ') : 'none'}. A shadow computes its slate on the same
        request as the live recommender, after the answer; readers only ever see the live slate.
      </p>
      <label for="shadow-since">Responses of</label>
      <select id="shadow-since" value={since} onChange={(e) => setSince(Number(e.currentTarget.value))}>
        {SINCE.map((s, i) => (
          <option key={s.label} value={i}>
            {s.label}
          </option>
        ))}
      </select>
      {report.loading && <p class="muted">Loading the shadow report…</p>}
      {report.error && <p role="alert">{report.error}</p>}
      {r && (
        <>
          <h3>Latency and errors</h3>
          <div class="scroll">
            <table class="sides">
              <caption class="sr-only">Responses, error rate and latency of the live recommender and of each shadow</caption>
              <thead>
                <tr>
                  <th scope="col">Recommender</th>
                  <th scope="col">Role</th>
                  <th scope="col">Responses</th>
                  <th scope="col">Errors</th>
                  <th scope="col">Latency mean</th>
                  <th scope="col">p50</th>
                  <th scope="col">p99</th>
                </tr>
              </thead>
              <tbody>
                {[...r.live.map((s) => ({ s, role: 'live' })), ...r.shadows.map((c) => ({ s: c.shadow, role: 'shadow' }))].map(
                  ({ s, role }) => (
                    <SideRow key={`${role} ${s.kind}@${s.version}`} s={s} role={role} />
                  ),
                )}
              </tbody>
            </table>
          </div>
          {r.live.length === 0 && <p>No live response in this window.</p>}
          <h3>Overlap and would-have-clicked</h3>
          {r.shadows.length === 0 ? (
            <p>
              No shadow response in this window
              {d.shadows.length === 0
                ? ': the placement has no shadow (add one on the Deployments page or with readnext deploy shadow add)'
                : ''}
              .
            </p>
          ) : (
            <div class="scroll">
              <table class="overlap">
                <caption class="sr-only">
                  Per shadow: requests with both slates, their mean Jaccard and rank-biased overlap, and the share of the reader's next
                  reads each slate held
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Shadow</th>
                    <th scope="col">Pairs</th>
                    <th scope="col">Jaccard</th>
                    <th scope="col">RBO</th>
                    <th scope="col">Next reads</th>
                    <th scope="col">Would have held: shadow</th>
                    <th scope="col">live</th>
                  </tr>
                </thead>
                <tbody>
                  {r.shadows.map((c) => (
                    <tr key={`${c.shadow.kind}@${c.shadow.version}`}>
                      <th scope="row">
                        {c.shadow.kind}@{c.shadow.version}
                      </th>
                      <td>{fmt(c.pairs, 0)}</td>
                      <td>{fmt(c.jaccard, 3)}</td>
                      <td>{fmt(c.rbo, 3)}</td>
                      <td>{fmt(c.nextReads, 0)}</td>
                      <td>{c.nextReads > 0 ? pct(c.shadowHitRate) : '–'}</td>
                      <td>{c.nextReads > 0 ? pct(c.liveHitRate) : '–'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <p class="muted">
            Would have held: of the reads that followed a response in the same session, the share whose article was in the slate. Overlap of
            1 means the same slate.
          </p>
        </>
      )}
    </section>
  );
}

function SideRow({ s, role }: { s: RecommenderSideReport; role: string }) {
  return (
    <tr>
      <th scope="row">
        {s.kind}@{s.version}
      </th>
      <td>{role}</td>
      <td>{fmt(s.responses, 0)}</td>
      <td class={s.errorRate > 0 ? 'error' : undefined}>{pct(s.errorRate, 2)}</td>
      <td>{fmt(s.latencyMs.mean, 1)} ms</td>
      <td>{fmt(s.latencyMs.p50, 1)} ms</td>
      <td>{fmt(s.latencyMs.p99, 1)} ms</td>
    </tr>
  );
}

interface OpeForm extends DayWindow {
  candidate: string;
}

type OpeState =
  { state: 'idle' } | { state: 'loading' } | { state: 'done'; r: OpeReport } | { state: 'refused' | 'error'; message: string };

const ESTIMATORS: Record<string, string> = {
  replay: 'Replay (position 1)',
  ips: 'IPS',
  snips: 'Self-normalised IPS',
  pbm: 'Position-based model',
  dr: 'Doubly robust',
};

/** Off-policy estimates of a candidate (the live recommender or a shadow of the placement) on a window of days. */
function Ope({ d }: { d: PlacementConfig }) {
  const candidates = [rec(d.live), ...d.shadows.map(rec).filter((c) => c !== rec(d.live))];
  const [form, setForm] = useState<OpeForm>({ candidate: candidates[1] ?? candidates[0]!, ...lastDays(7) });
  const [out, setOut] = useState<OpeState>({ state: 'idle' });
  const run = async () => {
    setOut({ state: 'loading' });
    const q = new URLSearchParams({
      placement: d.name,
      candidate: form.candidate,
      since: `${form.since}T00:00:00Z`,
      until: `${form.until}T00:00:00Z`,
    });
    try {
      setOut({ state: 'done', r: await api<OpeReport>('GET', `/v1/admin/ope?${q}`) });
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) setOut({ state: 'refused', message: e.message });
      else setOut({ state: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  };
  return (
    <section aria-labelledby="ope-h" aria-busy={out.state === 'loading'}>
      <h2 id="ope-h">Off-policy estimates</h2>
      <p class="muted">
        What a candidate would have earned, in clicks per slate, on the requests the placement logged with exploration on, beside what the
        live recommender earned on them. A shadow is evaluated on the slates it computed on those requests.
      </p>
      {!d.exploration && (
        <p class="muted">
          Exploration is off on {d.name} now; the estimates need a window when it was on (readnext deploy explore {d.name} --share 0.05).
        </p>
      )}
      <form
        class="row"
        aria-label="Off-policy evaluation"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <div>
          <label for="ope-candidate">Candidate</label>
          <select id="ope-candidate" value={form.candidate} onChange={(e) => setForm({ ...form, candidate: e.currentTarget.value })}>
            {candidates.map((c, i) => (
              <option key={c} value={c}>
                {c} ({i === 0 ? 'live' : 'shadow'})
              </option>
            ))}
          </select>
        </div>
        <DayWindowFields idPrefix="ope" form={form} setForm={setForm} />
        <div style={{ alignSelf: 'flex-end' }}>
          <button type="submit" disabled={out.state === 'loading'}>
            Estimate
          </button>
        </div>
      </form>
      <div aria-live="polite">
        {out.state === 'loading' && <p class="muted">Estimating from the logged exploration…</p>}
        {out.state === 'refused' && (
          <p class="warning" data-testid="ope-refused">
            <strong>No estimate:</strong> {out.message}
          </p>
        )}
        {out.state === 'error' && <p role="alert">{out.message}</p>}
        {out.state === 'done' && <OpeBody r={out.r} />}
      </div>
    </section>
  );
}

function OpeBody({ r }: { r: OpeReport }) {
  const rows = Object.entries(r.estimates);
  const domain = domainOf([
    r.live.ci[0],
    r.live.ci[1],
    ...rows.flatMap(([, e]) => (e.ok ? [e.estimate.perSlate.ci[0], e.estimate.perSlate.ci[1]] : [])),
  ]);
  return (
    <>
      <p>
        {r.candidate} on {fmt(r.rounds, 0)} logged slates of {r.slateSize} ({fmt(r.explored, 0)} explored). Live {r.live.recommender}:{' '}
        <strong>{fmt(r.live.clicksPerSlate, 4)}</strong> clicks per slate ({fmt(r.live.ci[0], 4)} to {fmt(r.live.ci[1], 4)}).
      </p>
      <div class="scroll">
        <table class="ope">
          <caption class="sr-only">
            Clicks per slate of the live recommender and each estimator's estimate for the candidate, with 95% intervals
          </caption>
          <thead>
            <tr>
              <th scope="col">Estimator</th>
              <th scope="col">Clicks per slate (95% interval)</th>
              <th scope="col">ESS</th>
              <th scope="col">Support</th>
              <th scope="col" class="chart-col">
                Interval
              </th>
            </tr>
          </thead>
          <tbody>
            <tr class="live-row">
              <th scope="row">Live {r.live.recommender} (measured)</th>
              <td>
                {fmt(r.live.clicksPerSlate, 4)} ({fmt(r.live.ci[0], 4)} to {fmt(r.live.ci[1], 4)})
              </td>
              <td>–</td>
              <td>–</td>
              <td class="chart-col">
                <IntervalBar
                  lo={r.live.ci[0]}
                  est={r.live.clicksPerSlate}
                  hi={r.live.ci[1]}
                  domain={domain}
                  label={`live ${fmt(r.live.clicksPerSlate, 4)} clicks per slate, 95% interval ${fmt(r.live.ci[0], 4)} to ${fmt(r.live.ci[1], 4)}`}
                />
              </td>
            </tr>
            {rows.map(([name, e]) =>
              e.ok ? (
                <tr key={name} data-estimator={name}>
                  <th scope="row">{ESTIMATORS[name] ?? name}</th>
                  <td>
                    {fmt(e.estimate.perSlate.value, 4)} ({fmt(e.estimate.perSlate.ci[0], 4)} to {fmt(e.estimate.perSlate.ci[1], 4)})
                    <span class="muted">
                      {' '}
                      n = {fmt(e.estimate.n, 0)}, {e.estimate.interval}
                    </span>
                  </td>
                  <td>{fmt(e.estimate.ess, 0)}</td>
                  <td>{pct(e.estimate.support, 0)}</td>
                  <td class="chart-col">
                    <IntervalBar
                      lo={e.estimate.perSlate.ci[0]}
                      est={e.estimate.perSlate.value}
                      hi={e.estimate.perSlate.ci[1]}
                      domain={domain}
                      tone={e.estimate.perSlate.ci[0] > r.live.ci[1] ? 'good' : e.estimate.perSlate.ci[1] < r.live.ci[0] ? 'bad' : 'none'}
                      label={`${name}: ${fmt(e.estimate.perSlate.value, 4)} clicks per slate, 95% interval ${fmt(e.estimate.perSlate.ci[0], 4)} to ${fmt(e.estimate.perSlate.ci[1], 4)}`}
                    />
                  </td>
                </tr>
              ) : (
                <tr key={name} data-estimator={name} class="refused">
                  <th scope="row">{ESTIMATORS[name] ?? name}</th>
                  <td colSpan={4}>
                    refused ({e.code}): {e.reason}
                  </td>
                </tr>
              ),
            )}
          </tbody>
        </table>
        <Axis domain={domain} format={(v) => fmt(v, 2)} />
      </div>
      <p class="muted">
        Replay counts clicks at position 1 only. Green: the interval lies above the live one; red: below.
        {r.examination && ` Examination by position (PBM, relative to position 1): ${r.examination.map((t) => fmt(t, 2)).join(', ')}.`}
      </p>
    </>
  );
}
