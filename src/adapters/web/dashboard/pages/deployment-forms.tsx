// The Deployments page's changes to one placement (issue 20): live recommender, shadows, canary and
// exploration share. Each is a form whose confirm step lists exactly what will change (before → after),
// takes an optional reason (kept in the audit log) and then makes one admin call; the server checks
// everything (an unknown kind is its 400 `unknown_recommender`), and its message is shown in the form.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { RecommenderConfig } from '../../../../core/recommend/types.js';
import { api, describeError } from '../api.js';
import { rec, type Deployment } from '../placements.js';
import { fmt, pct } from '../use-load.js';
import './deployment-forms.css';
import { TextField } from '../field.js';

/** The reason, when given, travels in the body (every change route reads `reason` there). */
type Why = { reason?: string };
type Plan = { lines: string[]; call: (why: Why) => Promise<Deployment> } | { error: string };

/** "kind@version" as typed, or an error naming the field. */
export function parseRecommender(text: string, label: string): RecommenderConfig | string {
  const m = /^\s*([^@\s/]+)@([^@\s/]+)\s*$/.exec(text);
  return m ? { kind: m[1]!, version: m[2]! } : `${label}: write kind@version, e.g. popular@1`;
}

const shadowsText = (s: readonly RecommenderConfig[]) => (s.length ? s.map(rec).join(', ') : 'none');
const canaryText = (c: Deployment['canary']) => (c ? `${rec(c.recommender)} on ${fmt(c.percent)}% of readers` : 'none');
const explorationText = (e: Deployment['exploration']) => (e ? `${pct(e.share)} of slates (pool ${e.pool})` : 'none');
const path = (d: Deployment, rest: string) => `/v1/admin/deployments/${encodeURIComponent(d.name)}${rest}`;
/** A number typed in a field, or NaN when empty or not a number (the server then names the field). */
const num = (s: string) => (s.trim() === '' ? NaN : Number(s));

/**
 * One change to a placement: a button opens the fields; "Review" shows what will change and a reason
 * field; "Confirm" makes the call. `plan` reads the fields (the before side is the deployment as shown).
 */
function Change(props: {
  d: Deployment;
  id: string;
  open: string;
  title: string;
  confirmLabel: string;
  plan: () => Plan;
  /** After a change, what was done (the placement is then reloaded); null when a form opens (clears it). */
  onChanged: (done: string | null) => void;
  children?: ComponentChildren;
}) {
  const { d, id } = props;
  const [open, setOpen] = useState(false);
  const [review, setReview] = useState<Plan | null>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const close = () => {
    setOpen(false);
    setReview(null);
    setReason('');
    setError(null);
  };
  const confirm = async (plan: Extract<Plan, { call: unknown }>) => {
    setBusy(true);
    setError(null);
    try {
      const r = await plan.call(reason.trim() ? { reason: reason.trim() } : {});
      close();
      props.onChanged(`Done: revision ${r.revision} of ${d.name}. ${plan.lines.join('; ')}.`);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  if (!open)
    return (
      <div class="change">
        <button
          type="button"
          onClick={() => {
            props.onChanged(null);
            setOpen(true);
          }}
        >
          {props.open}
        </button>
      </div>
    );
  return (
    <fieldset class="rollback" id={id}>
      <legend>{props.title}</legend>
      {props.children}
      {!review || 'error' in review ? (
        <>
          {review && 'error' in review && (
            <p role="alert" class="error">
              {review.error}
            </p>
          )}
          <button type="button" onClick={() => setReview(props.plan())}>
            Review the change
          </button>
        </>
      ) : (
        <div class="confirm" role="region" aria-label="What will change">
          <p>
            This makes revision {d.revision + 1} of <code>{d.name}</code> and changes:
          </p>
          <ul>
            {review.lines.map((l) => (
              <li key={l}>{l}</li>
            ))}
          </ul>
          <label for={`${id}-why`}>Reason (kept in the audit log)</label>
          <input id={`${id}-why`} value={reason} maxLength={2000} onInput={(e) => setReason(e.currentTarget.value)} />
          <button type="button" disabled={busy} onClick={() => void confirm(review)}>
            {props.confirmLabel}
          </button>{' '}
          <button type="button" class="link" onClick={() => setReview(null)}>
            Back
          </button>
        </div>
      )}
      {error && (
        <p role="alert" class="error">
          Not changed: {error}
        </p>
      )}
      <button type="button" class="link" onClick={close}>
        Cancel
      </button>
    </fieldset>
  );
}

const KIND_HINT = 'kind@version, e.g. popular@1; the server refuses a kind it does not serve';

/** Every recommender this placement names now (live, shadows, canary, fallbacks), offered as suggestions. */
function Known({ id, d, all }: { id: string; d: Deployment; all: readonly Deployment[] }) {
  const names = new Set<string>();
  for (const p of [d, ...all]) for (const r of [p.live, ...p.shadows, ...p.fallbacks, p.canary?.recommender]) if (r) names.add(rec(r));
  return (
    <datalist id={id}>
      {[...names].sort().map((n) => (
        <option key={n} value={n} />
      ))}
    </datalist>
  );
}

/** Live recommender, shadows, canary and exploration share of one placement, each a confirmed change. */
export function PlacementChanges({ d, all, onChanged }: { d: Deployment; all: readonly Deployment[]; onChanged: () => void }) {
  const id = `ch-${d.name}`;
  const list = `${id}-known`;
  const [live, setLive] = useState('');
  const [shadow, setShadow] = useState('');
  const [drop, setDrop] = useState('');
  const [canary, setCanary] = useState('');
  const [percent, setPercent] = useState('10');
  const [maxErrorRate, setMaxErrorRate] = useState('0.01');
  const [maxP99, setMaxP99] = useState('250');
  const [minCtrRatio, setMinCtrRatio] = useState('0.9');
  const [share, setShare] = useState(d.exploration ? String(+(d.exploration.share * 100).toFixed(4)) : '5');
  const [pool, setPool] = useState(String(d.exploration?.pool ?? 10));
  const [status, setStatus] = useState<string | null>(null);
  const common = {
    d,
    onChanged: (done: string | null) => {
      setStatus(done);
      if (done !== null) onChanged();
    },
  };

  return (
    <div class="changes">
      <Known id={list} d={d} all={all} />
      {status && <p role="status">{status}</p>}
      <Change
        {...common}
        id={`${id}-live`}
        open="Change live…"
        title={`Live recommender of ${d.name}`}
        confirmLabel="Confirm the new live recommender"
        plan={() => {
          const r = parseRecommender(live, 'New live recommender');
          if (typeof r === 'string') return { error: r };
          if (rec(r) === rec(d.live)) return { error: `${rec(r)} is live already` };
          return {
            lines: [`live: ${rec(d.live)} → ${rec(r)}`],
            call: (why) => api<Deployment>('POST', path(d, '/live'), { recommender: r, ...why }),
          };
        }}
      >
        <TextField id={`${id}-live-r`} label="New live recommender" value={live} set={setLive} list={list} hint={KIND_HINT} />
      </Change>

      <Change
        {...common}
        id={`${id}-shadow`}
        open="Add a shadow…"
        title={`Add a shadow to ${d.name}`}
        confirmLabel="Confirm the new shadow"
        plan={() => {
          const r = parseRecommender(shadow, 'Shadow recommender');
          if (typeof r === 'string') return { error: r };
          const after = [...d.shadows.filter((s) => rec(s) !== rec(r)), r];
          return {
            lines: [`shadows: ${shadowsText(d.shadows)} → ${shadowsText(after)}`],
            call: (why) => api<Deployment>('POST', path(d, '/shadows'), { recommender: r, ...why }),
          };
        }}
      >
        <TextField id={`${id}-shadow-r`} label="Shadow recommender" value={shadow} set={setShadow} list={list} hint={KIND_HINT} />
      </Change>

      {d.shadows.length > 0 && (
        <Change
          {...common}
          id={`${id}-unshadow`}
          open="Remove a shadow…"
          title={`Remove a shadow from ${d.name}`}
          confirmLabel="Confirm removing the shadow"
          plan={() => {
            const r = d.shadows.find((s) => rec(s) === drop);
            if (!r) return { error: 'Choose the shadow to remove' };
            return {
              lines: [`shadows: ${shadowsText(d.shadows)} → ${shadowsText(d.shadows.filter((s) => s !== r))}`],
              call: (why) =>
                api<Deployment>('DELETE', path(d, `/shadows/${encodeURIComponent(r.kind)}/${encodeURIComponent(r.version)}`), why),
            };
          }}
        >
          <label for={`${id}-unshadow-r`}>Shadow to remove</label>
          <select id={`${id}-unshadow-r`} value={drop} onChange={(e) => setDrop(e.currentTarget.value)}>
            <option value="">Choose a shadow</option>
            {d.shadows.map((s) => (
              <option key={rec(s)} value={rec(s)}>
                {rec(s)}
              </option>
            ))}
          </select>
        </Change>
      )}

      {d.canary ? (
        <Change
          {...common}
          id={`${id}-uncanary`}
          open="Stop the canary…"
          title={`Stop the canary of ${d.name}`}
          confirmLabel="Confirm stopping the canary"
          plan={() => ({
            lines: [`canary: ${canaryText(d.canary)} → none (every reader gets ${rec(d.live)})`],
            call: (why) => api<Deployment>('DELETE', path(d, '/canary'), why),
          })}
        />
      ) : (
        <Change
          {...common}
          id={`${id}-canary`}
          open="Start a canary…"
          title={`Start a canary on ${d.name}`}
          confirmLabel="Confirm the canary"
          plan={() => {
            const r = parseRecommender(canary, 'Canary recommender');
            if (typeof r === 'string') return { error: r };
            const c = {
              recommender: r,
              percent: num(percent),
              guardrails: { maxErrorRate: num(maxErrorRate), maxP99LatencyMs: num(maxP99), minCtrRatio: num(minCtrRatio) },
            };
            return {
              lines: [
                `canary: none → ${rec(r)} on ${percent.trim()}% of readers (the rest stay on ${rec(d.live)})`,
                `rolled back automatically when errors exceed ${maxErrorRate.trim()} of responses, p99 latency exceeds ${maxP99.trim()} ms, or its CTR falls under ${minCtrRatio.trim()} × live`,
              ],
              call: (why) => api<Deployment>('POST', path(d, '/canary'), { ...c, ...why }),
            };
          }}
        >
          <TextField id={`${id}-canary-r`} label="Canary recommender" value={canary} set={setCanary} list={list} hint={KIND_HINT} />
          <TextField id={`${id}-canary-p`} label="Share of readers (%)" value={percent} set={setPercent} inputMode="decimal" />
          <TextField
            id={`${id}-canary-e`}
            label="Largest error rate (0 to 1)"
            value={maxErrorRate}
            set={setMaxErrorRate}
            inputMode="decimal"
          />
          <TextField id={`${id}-canary-l`} label="Largest p99 latency (ms)" value={maxP99} set={setMaxP99} inputMode="decimal" />
          <TextField
            id={`${id}-canary-c`}
            label="Smallest CTR ratio, canary / live (0 to 1)"
            value={minCtrRatio}
            set={setMinCtrRatio}
            inputMode="decimal"
          />
        </Change>
      )}

      <Change
        {...common}
        id={`${id}-explore`}
        open={d.exploration ? 'Change exploration…' : 'Start exploration…'}
        title={`Exploration on ${d.name}`}
        confirmLabel="Confirm the exploration share"
        plan={() => {
          const e = { share: num(share) / 100, pool: num(pool) };
          return {
            lines: [`exploration: ${explorationText(d.exploration)} → ${Number.isFinite(e.share) ? explorationText(e) : share}`],
            call: (why) => api<Deployment>('PUT', path(d, '/exploration'), { exploration: e, ...why }),
          };
        }}
      >
        <TextField
          id={`${id}-explore-s`}
          label="Share of live slates explored (%)"
          value={share}
          set={setShare}
          inputMode="decimal"
          hint="Above 0 and at most 50%: these slates are drawn at random from the live recommender's best items, with their propensities logged for off-policy evaluation"
        />
        <TextField id={`${id}-explore-p`} label="Pool: best items drawn from (2 to 100)" value={pool} set={setPool} inputMode="decimal" />
      </Change>
      {d.exploration && (
        <Change
          {...common}
          id={`${id}-unexplore`}
          open="Stop exploration…"
          title={`Stop exploration on ${d.name}`}
          confirmLabel="Confirm stopping exploration"
          plan={() => ({
            lines: [`exploration: ${explorationText(d.exploration)} → none`],
            call: (why) => api<Deployment>('PUT', path(d, '/exploration'), { exploration: null, ...why }),
          })}
        />
      )}
    </div>
  );
}
