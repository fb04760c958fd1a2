import { useState } from 'preact/hooks';
import type { PlacementConfig } from '../../../../core/recommend/placement.js';
import { api, describeError } from '../api.js';
import { fetchDeployments, PlacementFacts, rec, type Deployment } from '../placements.js';
import { PlacementChanges } from './deployment-forms.js';
import { fmt, pct, useLoad } from '../use-load.js';

interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  reason: string | null;
}
interface Revision {
  revision: number;
  at: string;
  actor: string;
  reason: string | null;
  config: PlacementConfig;
}

/** The fields a rollback changes, as "field: now → then" lines (the fields people steer by first). */
export function changes(now: PlacementConfig, then: PlacementConfig): string[] {
  const show: [string, (c: PlacementConfig) => string][] = [
    ['live', (c) => rec(c.live)],
    ['shadows', (c) => (c.shadows.length ? c.shadows.map(rec).join(', ') : 'none')],
    ['canary', (c) => (c.canary ? `${rec(c.canary.recommender)} on ${fmt(c.canary.percent)}% of readers` : 'none')],
    ['exploration', (c) => (c.exploration ? `${pct(c.exploration.share)} of slates (pool ${c.exploration.pool})` : 'none')],
    ['fallbacks', (c) => c.fallbacks.map(rec).join(', ') || 'none'],
    ['slate size', (c) => `${c.defaultK} (max ${c.maxK})`],
    ['max age', (c) => `${c.ttlHours} h`],
    ['max per section', (c) => (c.maxPerSection === null ? 'no limit' : String(c.maxPerSection))],
    ['pins', (c) => c.pins.map((p) => `${p.articleId} at ${p.slot}`).join(', ') || 'none'],
    ['blocked', (c) => c.blocked.join(', ') || 'none'],
  ];
  return show.flatMap(([name, f]) => (f(now) === f(then) ? [] : [`${name}: ${f(now)} → ${f(then)}`]));
}

export function Deployments(_: { rest: string[] }) {
  const deployments = useLoad(fetchDeployments, []);
  const audit = useLoad(() => api<{ items: AuditEntry[] }>('GET', '/v1/admin/audit?limit=50'), []);
  const reload = () => {
    deployments.reload();
    audit.reload();
  };
  return (
    <>
      {deployments.error && <p role="alert">{deployments.error}</p>}
      {deployments.loading && !deployments.data && <p class="muted">Loading deployments…</p>}
      {deployments.data?.items.length === 0 && <p>No placement is deployed.</p>}
      {deployments.data?.items.map((d) => (
        <PlacementCard key={d.name} d={d} all={deployments.data!.items} onChanged={reload} />
      ))}
      <section aria-labelledby="audit-h">
        <h2 id="audit-h">Audit log</h2>
        {audit.error && <p role="alert">{audit.error}</p>}
        {audit.data && (
          <div class="scroll">
            <table>
              <caption class="sr-only">The latest 50 changes, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When (UTC)</th>
                  <th scope="col">Who</th>
                  <th scope="col">What</th>
                  <th scope="col">Target</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {audit.data.items.map((a) => (
                  <tr key={a.id}>
                    <td>{a.at.replace('T', ' ').slice(0, 19)}</td>
                    <td>{a.actor}</td>
                    <td>{a.action}</td>
                    <td>{a.target}</td>
                    <td>{a.reason ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

function PlacementCard({ d, all, onChanged }: { d: Deployment; all: readonly Deployment[]; onChanged: () => void }) {
  return (
    <section class="card" aria-labelledby={`p-${d.name}`}>
      <h2 id={`p-${d.name}`}>
        Placement <code>{d.name}</code> <span class="muted">revision {d.revision}</span>
      </h2>
      <PlacementFacts d={d} />
      <PlacementChanges d={d} all={all} onChanged={onChanged} />
      <Rollback d={d} onChanged={onChanged} />
    </section>
  );
}

/** Rollback to a chosen revision: pick, read what will change, confirm (POST .../rollback). */
function Rollback({ d, onChanged }: { d: Deployment; onChanged: () => void }) {
  const [open, setOpen] = useState(false);
  const history = useLoad(
    () => (open ? api<{ items: Revision[] }>('GET', `/v1/admin/deployments/${encodeURIComponent(d.name)}/history`) : Promise.resolve(null)),
    [open, d.revision],
  );
  const [to, setTo] = useState<number | null>(null);
  const [reason, setReason] = useState('');
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const earlier = history.data?.items.filter((r) => r.revision !== d.revision) ?? [];
  const target = earlier.find((r) => r.revision === to);
  const diff = target ? changes(d, target.config) : [];
  const id = `rb-${d.name}`;

  const confirm = async () => {
    setBusy(true);
    setStatus(null);
    try {
      const r = await api<Deployment>('POST', `/v1/admin/deployments/${encodeURIComponent(d.name)}/rollback`, {
        to,
        ...(reason.trim() ? { reason: reason.trim() } : {}),
      });
      setStatus(`Rolled back: revision ${r.revision} restores revision ${to}.`);
      setTo(null);
      setReason('');
      onChanged();
    } catch (e) {
      setStatus(`Rollback failed: ${describeError(e)}`);
    } finally {
      setBusy(false);
    }
  };

  if (!open)
    return (
      <>
        <button type="button" onClick={() => setOpen(true)}>
          Roll back…
        </button>
        {status && <p role="status">{status}</p>}
      </>
    );
  return (
    <fieldset class="rollback">
      <legend>Roll back {d.name}</legend>
      {history.error && <p role="alert">{history.error}</p>}
      {history.data && earlier.length === 0 && <p>There is no earlier revision.</p>}
      {earlier.length > 0 && (
        <>
          <label for={`${id}-to`}>Revision to restore</label>
          <select id={`${id}-to`} value={to ?? ''} onChange={(e) => setTo(e.currentTarget.value ? Number(e.currentTarget.value) : null)}>
            <option value="">Choose a revision</option>
            {earlier.map((r) => (
              <option key={r.revision} value={r.revision}>
                {r.revision}: {r.at.slice(0, 16).replace('T', ' ')} by {r.actor}
                {r.reason ? ` (${r.reason})` : ''}
              </option>
            ))}
          </select>
        </>
      )}
      {target && (
        <div class="confirm" role="region" aria-label="What will change">
          <p>
            Restoring revision {target.revision} makes a new revision {d.revision + 1} of <code>{d.name}</code>.{' '}
            {diff.length === 0 ? 'It is the same as now: nothing a reader sees changes.' : 'This will change:'}
          </p>
          {diff.length > 0 && (
            <ul>
              {diff.map((l) => (
                <li key={l}>{l}</li>
              ))}
            </ul>
          )}
          <label for={`${id}-why`}>Reason (kept in the audit log)</label>
          <input id={`${id}-why`} value={reason} maxLength={2000} onInput={(e) => setReason(e.currentTarget.value)} />
          <button type="button" disabled={busy} onClick={() => void confirm()}>
            Confirm rollback to revision {target.revision}
          </button>
        </div>
      )}
      <button
        type="button"
        class="link"
        onClick={() => {
          setOpen(false);
          setTo(null);
        }}
      >
        Cancel
      </button>
      {status && <p role="status">{status}</p>}
    </fieldset>
  );
}
