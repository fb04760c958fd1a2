// The Models page (issue 20, page 5): the model registry of GET /v1/admin/models with the offline
// metrics side by side, training a new model (POST /v1/admin/models/train, which answers once the
// model is stored: the page says it is training and for how long), and deploying a model as a
// shadow, live or as a canary through the deployment endpoints, or into an A/B experiment against
// the placement's live recommender (POST /v1/admin/experiments as the Experiments page's form
// sends it, then .../start), after a confirm step that says what will change on the placement.
import { useEffect, useState } from 'preact/hooks';
import type { ModelView, RunningTraining } from '../../../../app/model-admin.js';
import { METRICS } from '../../../../core/analysis/metrics.js';
import type { RecommenderConfig } from '../../../../core/recommend/types.js';
import { api, describeError } from '../api.js';
import { TextField } from '../field.js';
import { fetchDeployments, rec, type Deployment } from '../placements.js';
import { fmt, pct, useLoad } from '../use-load.js';
import { DEFAULT_GUARDRAILS, DEFAULT_PRIMARY, experimentBody, MetricSelect } from './experiment-form.js';
import './models.css';

const time = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** The single feature with the highest test AUC (the baseline a model must beat), or null. */
export function bestFeature(m: Pick<ModelView, 'metrics'>): { name: string; auc: number } | null {
  let best: { name: string; auc: number } | null = null;
  for (const [name, auc] of Object.entries(m.metrics.featureAuc))
    if (auc !== null && Number.isFinite(auc) && (best === null || auc > best.auc)) best = { name, auc };
  return best;
}

export function Models(_: { rest: string[] }) {
  const [placement, setPlacement] = useState('');
  const models = useLoad(
    () =>
      api<{ items: ModelView[]; training: RunningTraining | null }>(
        'GET',
        `/v1/admin/models${placement ? `?placement=${encodeURIComponent(placement)}` : ''}`,
      ),
    [placement],
  );
  const deployments = useLoad(fetchDeployments, []);
  const [deploying, setDeploying] = useState<number | null>(null);
  const names = deployments.data?.items.map((d) => d.name) ?? [];
  const target = models.data?.items.find((m) => m.version === deploying);
  const reload = () => {
    models.reload();
    deployments.reload();
  };

  return (
    <>
      <Train placements={names} onTrained={reload} running={models.data?.training ?? null} />
      <section aria-labelledby="registry-h">
        <h2 id="registry-h">Registry</h2>
        <label for="models-placement">Placement</label>
        <select id="models-placement" value={placement} onChange={(e) => setPlacement(e.currentTarget.value)}>
          <option value="">All placements</option>
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        {models.error && <p role="alert">{models.error}</p>}
        {models.loading && !models.data && <p class="muted">Loading models…</p>}
        {models.data?.items.length === 0 && <p>No model{placement ? ` for ${placement}` : ''} yet: train one above.</p>}
        {models.data && models.data.items.length > 0 && (
          <div class="scroll">
            <table class="models">
              <caption class="sr-only">Stored models, newest first, with their offline metrics on the later slice of their window</caption>
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Placement</th>
                  <th scope="col">Window (UTC)</th>
                  <th scope="col">AUC</th>
                  <th scope="col">Log loss</th>
                  <th scope="col">Best single feature (AUC)</th>
                  <th scope="col">Trees</th>
                  <th scope="col">Train / test examples</th>
                  <th scope="col">Test click rate</th>
                  <th scope="col">Deployed</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {models.data.items.map((m) => {
                  const best = bestFeature(m);
                  const beats = best !== null && m.metrics.auc !== null ? m.metrics.auc > best.auc : null;
                  return (
                    <tr key={m.version} data-version={m.version} aria-current={m.version === deploying ? 'true' : undefined}>
                      <th scope="row">
                        model@{m.version}
                        <div class="muted small">
                          {time(m.createdTs)}, seed {m.seed}
                        </div>
                      </th>
                      <td>{m.placement}</td>
                      <td>
                        {time(m.window.sinceTs)} → {time(m.window.untilTs)}
                      </td>
                      <td class={`num auc${beats === false ? ' bad' : ''}`} data-testid="auc">
                        {fmt(m.metrics.auc, 4)}
                      </td>
                      <td class="num">{fmt(m.metrics.testLogLoss, 4)}</td>
                      <td>{best ? `${best.name} ${fmt(best.auc, 4)}` : '–'}</td>
                      <td class="num">{fmt(m.metrics.trees ?? null, 0)}</td>
                      <td class="num">
                        {fmt(m.metrics.trainExamples, 0)} / {fmt(m.metrics.testExamples, 0)}
                      </td>
                      <td class="num">{pct(m.metrics.testClickRate, 2)}</td>
                      <td>{m.deployedAt.length ? m.deployedAt.join(', ') : 'no'}</td>
                      <td>
                        <button type="button" onClick={() => setDeploying(m.version)} aria-label={`Deploy model@${m.version}…`}>
                          Deploy…
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        <p class="muted small">
          AUC and log loss are measured on the latest 20% of the window's impressions, which the model did not train on; the best single
          feature's AUC on the same impressions is the baseline to beat (in red when the model does not).
        </p>
      </section>
      {target && (
        <Deploy
          key={target.version}
          model={target}
          deployment={deployments.data?.items.find((d) => d.name === target.placement)}
          onClose={() => setDeploying(null)}
          onDeployed={reload}
        />
      )}
    </>
  );
}

/** The train form: placement, window, seed; the request answers once the model is stored. */
function Train({ placements, onTrained, running }: { placements: string[]; onTrained: () => void; running: RunningTraining | null }) {
  const [placement, setPlacement] = useState('');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [seed, setSeed] = useState('1');
  const [startedAt, setStartedAt] = useState<number | null>(null);
  const [elapsed, setElapsed] = useState(0);
  const [status, setStatus] = useState<{ text: string; error: boolean } | null>(null);
  const chosen = placement || placements[0] || '';

  useEffect(() => {
    if (startedAt === null) return;
    const t = setInterval(() => setElapsed(Math.round((Date.now() - startedAt) / 1000)), 1000);
    return () => clearInterval(t);
  }, [startedAt]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setStatus(null);
    setElapsed(0);
    setStartedAt(Date.now());
    try {
      const m = await api<ModelView>('POST', '/v1/admin/models/train', {
        placement: chosen,
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
        ...(seed.trim() ? { seed: Number(seed) } : {}),
      });
      setStatus({
        text: `Stored model@${m.version} for ${m.placement}: AUC ${fmt(m.metrics.auc, 4)} on ${fmt(m.metrics.testExamples, 0)} later examples (trained on ${fmt(m.metrics.trainExamples, 0)} in ${fmt(m.metrics.trainSeconds, 1)} s).`,
        error: false,
      });
      onTrained();
    } catch (err) {
      setStatus({ text: `Training failed: ${describeError(err)}`, error: true });
    } finally {
      setStartedAt(null);
    }
  };

  const busy = startedAt !== null;
  return (
    <section class="card" aria-labelledby="train-h">
      <h2 id="train-h">Train a model</h2>
      <form onSubmit={(e) => void submit(e)} class="train" aria-busy={busy}>
        <div>
          <label for="train-placement">Placement</label>
          <select id="train-placement" value={chosen} onChange={(e) => setPlacement(e.currentTarget.value)} required>
            {placements.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="train-since">Since (UTC day)</label>
          <input
            id="train-since"
            type="date"
            value={since}
            onInput={(e) => setSince(e.currentTarget.value)}
            aria-describedby="train-hint"
          />
        </div>
        <div>
          <label for="train-until">Until (UTC day, excluded)</label>
          <input
            id="train-until"
            type="date"
            value={until}
            onInput={(e) => setUntil(e.currentTarget.value)}
            aria-describedby="train-hint"
          />
        </div>
        <div>
          <label for="train-seed">Seed</label>
          <input id="train-seed" type="number" min={0} step={1} value={seed} onInput={(e) => setSeed(e.currentTarget.value)} />
        </div>
        <div>
          <button type="submit" disabled={busy || !chosen}>
            {busy ? 'Training…' : 'Train'}
          </button>
        </div>
      </form>
      <p id="train-hint" class="muted small">
        Empty: until now, since 7 days before until. The impressions of the window are the examples; the latest 20% are kept to measure the
        model.
      </p>
      <div role="status">
        {busy && (
          <p>
            Training a model for {chosen}… {elapsed} s. The server answers once the model is stored (seconds to minutes, with the window's
            events).
          </p>
        )}
        {!busy && running && (
          <p>
            A model for {running.placement} is being trained since {time(running.startedTs)} UTC.
          </p>
        )}
        {status && <p class={status.error ? 'error' : undefined}>{status.text}</p>}
      </div>
    </section>
  );
}

type Target = 'shadow' | 'live' | 'canary' | 'experiment';

/** The experiment fields of the deploy form: weights as typed, the primary metric's id, start once created. */
export interface ExperimentFields {
  id: string;
  controlWeight: string;
  treatmentWeight: string;
  primary: string;
  start: boolean;
}

/**
 * The body of POST /v1/admin/experiments putting the model (treatment) against the placement's live
 * recommender (control) in an A/B experiment, as the Experiments page's form builds it
 * (experimentBody: the default layer, all of it, the default guardrails), or an error naming the
 * field. The control is the live config itself, its params included, which kind@version would drop.
 */
export function modelExperimentBody(d: Deployment, version: number, f: ExperimentFields): Record<string, unknown> | string {
  const b = experimentBody({
    id: f.id,
    placement: d.name,
    kind: 'ab',
    description: `model@${version} against the live ${rec(d.live)}`,
    layer: '',
    rangeStart: '',
    rangeEnd: '',
    coverage: '',
    arms: [
      { name: 'control', rec: rec(d.live), weight: f.controlWeight },
      { name: 'treatment', rec: `model@${version}`, weight: f.treatmentWeight },
    ],
    primary: f.primary,
    guardrails: DEFAULT_GUARDRAILS,
  });
  if (typeof b === 'string') return b;
  const [control, treatment] = b.arms as Record<string, unknown>[];
  return { ...b, arms: [{ ...control, recommender: d.live }, treatment] };
}

const metricName = (id: string) => METRICS.find((m) => m.id === id)?.name ?? id;

/** What deploying the model into an experiment does, one line per step. */
export function experimentPlan(d: Deployment, version: number, f: ExperimentFields): string[] {
  return [
    `creates the A/B experiment ${f.id} on ${d.name} (layer "default", all of it): control ${rec(d.live)} weight ${f.controlWeight || 'equal'}, treatment model@${version} weight ${f.treatmentWeight || 'equal'}`,
    `primary metric ${metricName(f.primary)}; guardrails ${DEFAULT_GUARDRAILS.filter((g) => g !== f.primary)
      .map(metricName)
      .join(', ')}`,
    f.start
      ? `then starts it: from now on the readers of ${d.name} it takes are split between the arms; the others keep ${rec(d.live)}`
      : 'left as a draft: no reader sees it until it is started on the Experiments page',
  ];
}

/** What deploying `r` as `target` changes on the placement, one line per field. */
export function deployPlan(d: Deployment, r: RecommenderConfig, target: Target, c: { percent: string; rules: string }): string[] {
  if (target === 'shadow')
    return [
      `shadows: ${d.shadows.length ? d.shadows.map(rec).join(', ') : 'none'} → ${[...d.shadows, r].map(rec).join(', ')}`,
      `readers see no change: ${rec(r)} runs on the same requests as ${rec(d.live)}, its slates logged, never shown`,
    ];
  if (target === 'live')
    return [
      `live: ${rec(d.live)} → ${rec(r)}: every reader of ${d.name} not in an experiment or the canary gets its slates`,
      ...(d.canary ? [`the canary ${rec(d.canary.recommender)} keeps its ${fmt(d.canary.percent)}% of readers`] : []),
    ];
  return [
    `canary: ${d.canary ? `${rec(d.canary.recommender)} on ${fmt(d.canary.percent)}%` : 'none'} → ${rec(r)} on ${c.percent}% of readers (the rest stay on ${rec(d.live)})`,
    c.rules,
  ];
}

function Deploy({
  model,
  deployment: d,
  onClose,
  onDeployed,
}: {
  model: ModelView;
  deployment: Deployment | undefined;
  onClose: () => void;
  onDeployed: () => void;
}) {
  const [target, setTarget] = useState<Target>('shadow');
  const [percent, setPercent] = useState('10');
  const [maxErrorRate, setMaxErrorRate] = useState('0.01');
  const [maxP99, setMaxP99] = useState('250');
  const [minCtrRatio, setMinCtrRatio] = useState('0.9');
  const [exp, setExp] = useState<ExperimentFields>({
    id: `${model.placement}-model-${model.version}`,
    controlWeight: '0.5',
    treatmentWeight: '0.5',
    primary: DEFAULT_PRIMARY,
    start: true,
  });
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<{ text: string; error: boolean; experiment?: string } | null>(null);
  const r: RecommenderConfig = { kind: 'model', version: String(model.version) };
  const name = `model@${model.version}`;
  const id = `deploy-${model.version}`;
  const setField = (patch: Partial<ExperimentFields>) => setExp((f) => ({ ...f, ...patch }));
  const rules = `rolled back automatically when errors exceed ${maxErrorRate} of responses, p99 latency exceeds ${maxP99} ms, or its CTR falls under ${minCtrRatio} × live`;
  const already = d && (target === 'shadow' ? d.shadows.some((s) => rec(s) === name) : target === 'live' ? rec(d.live) === name : false);

  /** Creates the experiment, then starts it (when asked); a start that fails leaves the draft, and says so. */
  const toExperiment = async (d: Deployment, why: { reason?: string }) => {
    const body = modelExperimentBody(d, model.version, exp);
    if (typeof body === 'string') return setStatus({ text: `Not created: ${body}`, error: true });
    let created: string;
    try {
      created = (await api<{ id: string }>('POST', '/v1/admin/experiments', { ...body, ...why })).id;
    } catch (e) {
      return setStatus({ text: `Not created: ${describeError(e)}`, error: true });
    }
    onDeployed();
    if (!exp.start)
      return setStatus({
        text: `Created the experiment ${created} (a draft) with ${name} as its treatment.`,
        error: false,
        experiment: created,
      });
    try {
      await api('POST', `/v1/admin/experiments/${encodeURIComponent(created)}/start`);
      setStatus({
        text: `Started the experiment ${created}: ${name} against ${rec(d.live)} on ${d.name}.`,
        error: false,
        experiment: created,
      });
      onDeployed();
    } catch (e) {
      setStatus({ text: `Created the experiment ${created}, but it did not start: ${describeError(e)}`, error: true, experiment: created });
    }
  };

  const confirm = async () => {
    if (!d) return;
    setBusy(true);
    setStatus(null);
    const why = reason.trim() ? { reason: reason.trim() } : {};
    const path = `/v1/admin/deployments/${encodeURIComponent(d.name)}`;
    if (target === 'experiment') {
      await toExperiment(d, why);
      return setBusy(false);
    }
    try {
      const after =
        target === 'shadow'
          ? await api<Deployment>('POST', `${path}/shadows`, { recommender: r, ...why })
          : target === 'live'
            ? await api<Deployment>('POST', `${path}/live`, { recommender: r, ...why })
            : await api<Deployment>('POST', `${path}/canary`, {
                recommender: r,
                percent: Number(percent),
                guardrails: { maxErrorRate: Number(maxErrorRate), maxP99LatencyMs: Number(maxP99), minCtrRatio: Number(minCtrRatio) },
                ...why,
              });
      setStatus({ text: `Deployed ${name} as ${target} of ${d.name}: revision ${after.revision}.`, error: false });
      onDeployed();
    } catch (e) {
      setStatus({ text: `Deploying failed: ${describeError(e)}`, error: true });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>
        Deploy {name} on {model.placement}
      </h2>
      {!d && <p role="alert">The placement {model.placement} has no deployment: create it on the Deployments page first.</p>}
      {d && (
        <>
          <fieldset class="targets">
            <legend>As</legend>
            {(
              [
                ['shadow', 'Shadow: computed beside live, logged, never shown'],
                ['live', 'Live: served to every reader'],
                ['canary', 'Canary: a share of readers, with guardrails'],
                ['experiment', 'Experiment: an A/B test against the live recommender'],
              ] as const
            ).map(([value, label]) => (
              <label key={value} class="radio">
                <input
                  type="radio"
                  name={`${id}-target`}
                  value={value}
                  checked={target === value}
                  onChange={() => {
                    setTarget(value);
                    setStatus(null);
                  }}
                />{' '}
                {label}
              </label>
            ))}
          </fieldset>
          {target === 'canary' && (
            <div class="canary-fields">
              <NumberField id={`${id}-percent`} label="Share of readers (%)" value={percent} set={setPercent} />
              <NumberField id={`${id}-err`} label="Largest error rate (0 to 1)" value={maxErrorRate} set={setMaxErrorRate} />
              <NumberField id={`${id}-p99`} label="Largest p99 latency (ms)" value={maxP99} set={setMaxP99} />
              <NumberField id={`${id}-ctr`} label="Smallest CTR ratio, canary / live (0 to 1)" value={minCtrRatio} set={setMinCtrRatio} />
            </div>
          )}
          {target === 'experiment' && (
            <div class="experiment-fields">
              <div>
                <TextField id={`${id}-exp-id`} label="Experiment id" value={exp.id} set={(v) => setField({ id: v })} />
              </div>
              <div>
                <TextField
                  id={`${id}-exp-control`}
                  label={`Control weight (${rec(d.live)})`}
                  value={exp.controlWeight}
                  inputMode="decimal"
                  set={(v) => setField({ controlWeight: v })}
                />
              </div>
              <div>
                <TextField
                  id={`${id}-exp-treatment`}
                  label={`Treatment weight (${name})`}
                  value={exp.treatmentWeight}
                  inputMode="decimal"
                  set={(v) => setField({ treatmentWeight: v })}
                />
              </div>
              <div>
                <label for={`${id}-exp-primary`}>Primary metric</label>
                <MetricSelect id={`${id}-exp-primary`} value={exp.primary} onChange={(primary) => setField({ primary })} />
              </div>
              <label class="check">
                <input type="checkbox" checked={exp.start} onChange={(e) => setField({ start: e.currentTarget.checked })} /> Start it now
              </label>
            </div>
          )}
          <div class="confirm" role="region" aria-label="What will change">
            {target === 'experiment' ? (
              <>
                <p>This will:</p>
                <ul>
                  {experimentPlan(d, model.version, exp).map((l) => (
                    <li key={l}>{l}</li>
                  ))}
                </ul>
                <label for={`${id}-why`}>Reason (kept in the audit log)</label>
                <input id={`${id}-why`} value={reason} maxLength={2000} onInput={(e) => setReason(e.currentTarget.value)} />
                <button type="button" disabled={busy} onClick={() => void confirm()}>
                  Confirm: deploy {name} to an experiment
                </button>
              </>
            ) : already ? (
              <p>
                {name} is already {target === 'shadow' ? 'a shadow' : 'live'} on {d.name}: nothing to change.
              </p>
            ) : (
              <>
                <p>
                  This makes revision {d.revision + 1} of <code>{d.name}</code> and will change:
                </p>
                <ul>
                  {deployPlan(d, r, target, { percent, rules }).map((l) => (
                    <li key={l}>{l}</li>
                  ))}
                </ul>
                <label for={`${id}-why`}>Reason (kept in the audit log)</label>
                <input id={`${id}-why`} value={reason} maxLength={2000} onInput={(e) => setReason(e.currentTarget.value)} />
                <button type="button" disabled={busy} onClick={() => void confirm()}>
                  Confirm: deploy {name} as {target}
                </button>
              </>
            )}
          </div>
        </>
      )}
      <button type="button" class="link" onClick={onClose}>
        Close
      </button>
      <div role="status">
        {status && (
          <p class={status.error ? 'error' : undefined}>
            {status.text}
            {status.experiment !== undefined && (
              <>
                {' '}
                <a href={`#/experiments/${encodeURIComponent(status.experiment)}`}>Open the experiment {status.experiment}</a>
              </>
            )}
          </p>
        )}
      </div>
    </section>
  );
}

function NumberField({ id, label, value, set }: { id: string; label: string; value: string; set: (v: string) => void }) {
  return (
    <div>
      <label for={id}>{label}</label>
      <input id={id} inputMode="decimal" value={value} onInput={(e) => set(e.currentTarget.value)} />
    </div>
  );
}
