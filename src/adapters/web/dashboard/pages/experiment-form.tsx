// The Experiments page's changes (issue 20): create an experiment (a draft) and start or stop one.
// Each goes through a confirm step: creation shows the exact JSON body POST /v1/admin/experiments
// will get; start and stop say what happens to the placement's readers. The server validates
// everything (core/experiments/experiment.ts parseExperiment); its message, which names the field,
// is shown in the form.
import { useState } from 'preact/hooks';
import { METRICS } from '../../../../core/analysis/metrics.js';
import { api, describeError } from '../api.js';
import { fetchDeployments } from '../placements.js';
import { useLoad } from '../use-load.js';
import { parseRecommender } from './deployment-forms.js';
import './experiment-form.css';
import { TextField } from '../field.js';

/** The defaults of parseExperiment (DEFAULT_PRIMARY_METRIC, DEFAULT_GUARDRAIL_METRICS), preselected (here and on the Models page). */
export const DEFAULT_PRIMARY = 'articles_read';
export const DEFAULT_GUARDRAILS: readonly string[] = ['conversion', 'dwell_per_read'];

interface ArmRow {
  key: number;
  name: string;
  rec: string;
  weight: string;
}

let nextKey = 0;
const row = (name: string, weight = ''): ArmRow => ({ key: ++nextKey, name, rec: '', weight });

/**
 * The body for POST /v1/admin/experiments from the form's fields, or an error naming the field. Only
 * what is typed is sent: empty optional fields take the server's defaults (equal weights, layer
 * "default", the whole layer, coverage 1).
 */
export function experimentBody(f: {
  id: string;
  placement: string;
  kind: 'ab' | 'interleaving';
  description: string;
  layer: string;
  rangeStart: string;
  rangeEnd: string;
  coverage: string;
  arms: readonly Omit<ArmRow, 'key'>[];
  primary: string;
  guardrails: readonly string[];
}): Record<string, unknown> | string {
  if (f.arms.length < 2) return 'arms: an experiment has 2 or more arms';
  const arms: Record<string, unknown>[] = [];
  for (const [i, a] of f.arms.entries()) {
    const r = parseRecommender(a.rec, `arm ${i + 1} recommender`);
    if (typeof r === 'string') return r;
    const arm: Record<string, unknown> = { name: a.name.trim(), recommender: r };
    if (a.weight.trim() !== '') arm.weight = Number(a.weight);
    arms.push(arm);
  }
  const body: Record<string, unknown> = { id: f.id.trim(), placement: f.placement.trim(), kind: f.kind };
  if (f.description.trim()) body.description = f.description.trim();
  if (f.layer.trim()) body.layer = f.layer.trim();
  if (f.rangeStart.trim() !== '' || f.rangeEnd.trim() !== '')
    body.range = [f.rangeStart.trim() === '' ? 0 : Number(f.rangeStart), f.rangeEnd.trim() === '' ? 1 : Number(f.rangeEnd)];
  if (f.coverage.trim() !== '') body.coverage = Number(f.coverage);
  body.arms = arms;
  body.primaryMetric = f.primary;
  body.guardrailMetrics = f.guardrails.filter((g) => g !== f.primary);
  return body;
}

/** A labelled input in its own grid cell. */
function Input(p: {
  id: string;
  label: string;
  value: string;
  set: (v: string) => void;
  hint?: string;
  inputMode?: 'decimal';
  list?: string;
}) {
  return (
    <div class="field">
      <TextField {...p} />
    </div>
  );
}

/** "New experiment…" opens the form; Review shows the JSON; Create makes the draft and reports its id. */
export function CreateExperiment({ onCreated }: { onCreated: (id: string) => void }) {
  const [open, setOpen] = useState(false);
  const [id, setId] = useState('');
  const [placement, setPlacement] = useState('');
  const [kind, setKind] = useState<'ab' | 'interleaving'>('ab');
  const [description, setDescription] = useState('');
  const [layer, setLayer] = useState('');
  const [rangeStart, setRangeStart] = useState('');
  const [rangeEnd, setRangeEnd] = useState('');
  const [coverage, setCoverage] = useState('');
  const [arms, setArms] = useState<ArmRow[]>(() => [row('control'), row('treatment')]);
  const [primary, setPrimary] = useState(DEFAULT_PRIMARY);
  const [guardrails, setGuardrails] = useState<string[]>([...DEFAULT_GUARDRAILS]);
  const [reason, setReason] = useState('');
  const [review, setReview] = useState<Record<string, unknown> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const placements = useLoad(() => (open ? fetchDeployments() : Promise.resolve(null)), [open]);

  if (!open)
    return (
      <p>
        <button type="button" onClick={() => setOpen(true)}>
          New experiment…
        </button>
      </p>
    );

  const setArm = (key: number, patch: Partial<ArmRow>) => setArms((as) => as.map((a) => (a.key === key ? { ...a, ...patch } : a)));
  const doReview = () => {
    setError(null);
    const b = experimentBody({ id, placement, kind, description, layer, rangeStart, rangeEnd, coverage, arms, primary, guardrails });
    if (typeof b === 'string') setError(b);
    else setReview(b);
  };
  const create = async () => {
    if (!review) return;
    setBusy(true);
    setError(null);
    try {
      const e = await api<{ id: string }>('POST', '/v1/admin/experiments', reason.trim() ? { ...review, reason: reason.trim() } : review);
      setOpen(false);
      setReview(null);
      onCreated(e.id);
    } catch (e) {
      setReview(null);
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="card create-exp"
      aria-labelledby="create-h"
      onSubmit={(e) => {
        e.preventDefault();
        doReview();
      }}
    >
      <h2 id="create-h">New experiment</h2>
      <fieldset disabled={review !== null}>
        <legend>Experiment</legend>
        <Input id="x-id" label="Id" value={id} set={setId} hint="letters, digits, _ . - (up to 128)" />
        <Input id="x-placement" label="Placement" value={placement} set={setPlacement} list="x-placements" />
        <datalist id="x-placements">
          {placements.data?.items.map((d) => (
            <option key={d.name} value={d.name} />
          ))}
        </datalist>
        <div class="field">
          <label for="x-kind">Kind</label>
          <select id="x-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as 'ab' | 'interleaving')}>
            <option value="ab">A/B (readers split between arms)</option>
            <option value="interleaving">Interleaving (two teams in one slate)</option>
          </select>
        </div>
        <Input id="x-description" label="Description (optional)" value={description} set={setDescription} />
      </fieldset>
      <fieldset disabled={review !== null}>
        <legend>Arms</legend>
        <p class="muted">
          The first arm is the control. Weights are shares of the experiment's readers and sum to 1; leave them all empty for equal weights.
          {kind === 'interleaving' ? ' An interleaving experiment has exactly two arms (its teams).' : ''}
        </p>
        <ol class="arms">
          {arms.map((a, i) => (
            <li key={a.key}>
              <Input id={`x-arm-${a.key}-name`} label={`Arm ${i + 1} name`} value={a.name} set={(v) => setArm(a.key, { name: v })} />
              <Input
                id={`x-arm-${a.key}-rec`}
                label={`Arm ${i + 1} recommender`}
                value={a.rec}
                set={(v) => setArm(a.key, { rec: v })}
                hint="kind@version, e.g. popular@1"
              />
              <Input
                id={`x-arm-${a.key}-weight`}
                label={`Arm ${i + 1} weight`}
                value={a.weight}
                inputMode="decimal"
                set={(v) => setArm(a.key, { weight: v })}
              />
              <button
                type="button"
                class="link"
                disabled={arms.length <= 2}
                onClick={() => setArms((as) => as.filter((x) => x.key !== a.key))}
                aria-label={`Remove arm ${i + 1}`}
              >
                Remove
              </button>
            </li>
          ))}
        </ol>
        <button type="button" disabled={arms.length >= 20} onClick={() => setArms((as) => [...as, row(`arm${as.length + 1}`)])}>
          Add an arm
        </button>
      </fieldset>
      <fieldset disabled={review !== null}>
        <legend>Audience</legend>
        <Input
          id="x-layer"
          label="Layer (optional)"
          value={layer}
          set={setLayer}
          hint='experiments of one layer take disjoint slices of it and never share a reader; default "default"'
        />
        <Input
          id="x-range-start"
          label="Slice of the layer: start"
          value={rangeStart}
          set={setRangeStart}
          inputMode="decimal"
          hint="0 to 1; empty: 0"
        />
        <Input
          id="x-range-end"
          label="Slice of the layer: end"
          value={rangeEnd}
          set={setRangeEnd}
          inputMode="decimal"
          hint="0 to 1; empty: 1"
        />
        <Input
          id="x-coverage"
          label="Coverage"
          value={coverage}
          set={setCoverage}
          inputMode="decimal"
          hint="share of the slice's readers that enter, 0 to 1; empty: 1"
        />
      </fieldset>
      <fieldset disabled={review !== null}>
        <legend>Metrics</legend>
        <div class="field">
          <label for="x-primary">Primary metric (the ship decision rests on it)</label>
          <MetricSelect id="x-primary" value={primary} onChange={setPrimary} />
        </div>
        <fieldset class="guardrails">
          <legend>Guardrails (must not be significantly harmed)</legend>
          {METRICS.filter((m) => m.id !== primary).map((m) => (
            <label key={m.id} class="check">
              <input
                type="checkbox"
                checked={guardrails.includes(m.id)}
                onChange={(e) => {
                  const on = e.currentTarget.checked;
                  setGuardrails((gs) => (on ? [...gs.filter((g) => g !== m.id), m.id] : gs.filter((g) => g !== m.id)));
                }}
              />{' '}
              {m.name}
            </label>
          ))}
        </fieldset>
        <p class="muted">Every other metric is reported as secondary (the experiment schema has no separate list of them).</p>
      </fieldset>
      {error && (
        <p role="alert" class="error">
          Not created: {error}
        </p>
      )}
      {review === null ? (
        <p>
          <button type="submit">Review</button>{' '}
          <button type="button" class="link" onClick={() => setOpen(false)}>
            Cancel
          </button>
        </p>
      ) : (
        <div class="confirm" role="region" aria-label="What will be sent">
          <p>
            This creates a draft experiment (no reader sees it until it is started) with <code>POST /v1/admin/experiments</code>:
          </p>
          <pre tabIndex={0} aria-label="The JSON to be sent">
            {JSON.stringify(review, null, 2)}
          </pre>
          <label for="x-why">Reason (kept in the audit log)</label>
          <input id="x-why" value={reason} maxLength={2000} onInput={(e) => setReason(e.currentTarget.value)} />
          <button type="button" disabled={busy} onClick={() => void create()}>
            Create the experiment
          </button>{' '}
          <button type="button" class="link" onClick={() => setReview(null)}>
            Back
          </button>
        </div>
      )}
    </form>
  );
}

/** Start (a draft) or stop (a running experiment), after a confirm step saying what changes for readers. */
export function StartStop({ e, onChanged }: { e: { id: string; status: string; placement: string }; onChanged: () => void }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const action = e.status === 'draft' ? 'start' : e.status === 'running' ? 'stop' : null;
  if (!action) return null;
  const Action = action === 'start' ? 'Start' : 'Stop';
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      await api('POST', `/v1/admin/experiments/${encodeURIComponent(e.id)}/${action}`);
      setAsking(false);
      onChanged();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="startstop">
      {!asking ? (
        <button type="button" onClick={() => setAsking(true)}>
          {Action} the experiment…
        </button>
      ) : (
        <div class="confirm" role="region" aria-label={`${Action} ${e.id}`}>
          <p>
            {action === 'start'
              ? `Starting opens phase 1: readers of ${e.placement} in the experiment's slice are assigned an arm and served its recommender from now on.`
              : `Stopping ends the experiment: readers of ${e.placement} go back to the placement's live recommender; the report keeps the data up to now. A stopped experiment cannot be restarted.`}
          </p>
          <button type="button" disabled={busy} onClick={() => void go()}>
            Confirm: {action} {e.id}
          </button>{' '}
          <button type="button" class="link" onClick={() => setAsking(false)}>
            Cancel
          </button>
        </div>
      )}
      {error && (
        <p role="alert" class="error">
          Not changed: {error}
        </p>
      )}
    </div>
  );
}

/** A select of the report's metrics by name (the experiment form's and the models page's primary metric). */
export function MetricSelect(p: { id: string; value: string; onChange: (metric: string) => void }) {
  return (
    <select id={p.id} value={p.value} onChange={(e) => p.onChange(e.currentTarget.value)}>
      {METRICS.map((m) => (
        <option key={m.id} value={m.id}>
          {m.name}
        </option>
      ))}
    </select>
  );
}
