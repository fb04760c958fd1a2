/**
 * Fault injection: learned models that fail, deployed live on a running `readnext serve`.
 *   - `corrupt`: a model whose stored trees are damaged (the `models.model` column cut short, as a
 *     torn write or a bad hand edit would leave it): it cannot be loaded;
 *   - `throws`: a model that loads but whose scores overflow (two leaves of 1e308 sum to Infinity),
 *     so scoring throws on every request (kinds/model.ts refuses a non-finite score).
 * Each is live on a placement of its own, with fallbacks. Many readers then ask for
 * recommendations; every answer must be a 200 with items from the fallback chain (flagged
 * `fallback`), and the process's fault counter (GET /metrics, readnext_recommender_faults_total for
 * kind `model`) must grow by exactly one per request served by a failing model.
 */
import { sql } from 'kysely';
import { kyselyOfStorage, openStorage } from '../../src/adapters/storage/open.js';
import { FEATURE_SPEC } from '../../src/core/ml/features.js';
import type { GbdtModel, GbdtTree } from '../../src/core/ml/gbdt.js';
import { currentFeatureSpec, type ModelMetrics } from '../../src/core/ml/model.js';
import { BROWSER_UA, spawnFaultServer } from './common.js';

export const MODEL_ADMIN_KEY = 'fault-model-admin-key-0123456789ab';
const INGEST_KEY = 'fault-model-ingest-key-0123456789a';
const ARTICLES = 40;

/** A tree of one leaf worth `value`. */
function leaf(value: number): GbdtTree {
  return { feature: [-1], threshold: [0], left: [-1], right: [-1], value: [value], missingLeft: [false], gain: [0], count: [1] };
}

function model(trees: GbdtTree[]): GbdtModel {
  return {
    format: 'readnext-gbdt',
    version: 1,
    d: FEATURE_SPEC.names.length,
    baseScore: 0,
    params: { rounds: trees.length } as GbdtModel['params'],
    trees,
  };
}

const METRICS: ModelMetrics = {
  trainExamples: 1,
  trainImpressions: 1,
  testExamples: 1,
  testImpressions: 1,
  trainClickRate: 0.5,
  testClickRate: 0.5,
  auc: null,
} as ModelMetrics;

/** Stores the two failing models in the database at `db` (before the server starts); their versions. */
export async function storeFailingModels(db: string): Promise<{ corrupt: number; throws: number }> {
  const storage = await openStorage(db);
  try {
    const put = (m: GbdtModel) =>
      storage.putModel({
        placement: 'read-next',
        createdTs: Date.now(),
        window: { sinceTs: 0, untilTs: 1 },
        seed: 1,
        featureSpec: currentFeatureSpec(),
        model: m,
        metrics: METRICS,
        sizeBytes: JSON.stringify(m).length,
      });
    const corrupt = await put(model([leaf(0.1), leaf(0.2)]));
    const throws = await put(model([leaf(1e308), leaf(1e308)]));
    // Damage the first one's stored trees: its JSON cut in the middle.
    await sql`update models set model = substr(model, 1, 60) where version = ${corrupt}`.execute(kyselyOfStorage.get(storage)!);
    return { corrupt, throws };
  } finally {
    await storage.close();
  }
}

export interface ModelFaultsReport {
  requests: number;
  /** Requests per placement whose live model fails. */
  perPlacement: Record<string, number>;
  statuses: Record<string, number>;
  /** Answers that were not a 200 with items, flagged fallback, from a fallback recommender. */
  wrong: string[];
  /** readnext_recommender_faults_total{kind="model",role="serving"} per placement, after minus before. */
  faultsCounted: Record<string, number>;
  /** What served the answers (kind), per placement. */
  servedBy: Record<string, Record<string, number>>;
  ms: number;
}

async function faultCounts(url: string): Promise<Record<string, number>> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${MODEL_ADMIN_KEY}` } });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const out: Record<string, number> = {};
  for (const line of (await res.text()).split('\n')) {
    if (!line.startsWith('readnext_recommender_faults_total{')) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (labels.kind === 'model' && labels.role === 'serving') out[labels.placement!] = Number(line.split(' ').pop());
  }
  return out;
}

/** Starts a server on `db` (holding the models of storeFailingModels), deploys them and sends `requests` per placement. */
export async function runModelFaults(
  db: string,
  versions: { corrupt: number; throws: number },
  requests = 300,
): Promise<ModelFaultsReport> {
  const t0 = performance.now();
  const server = await spawnFaultServer(db, { admin: MODEL_ADMIN_KEY, ingest: INGEST_KEY }, { READNEXT_SQLITE_SYNCHRONOUS: 'NORMAL' });
  try {
    const admin = async (method: string, path: string, body: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${MODEL_ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
      return JSON.parse(text) as { revision: number };
    };
    const now = Date.now();
    await admin('POST', '/v1/admin/articles', {
      articles: Array.from({ length: ARTICLES }, (_, i) => ({
        id: `m${i}`,
        title: `Article ${i}`,
        section: `s${i % 4}`,
        publishedAt: new Date(now - (i + 1) * 60_000).toISOString(),
      })),
    });
    const fallbacks = [
      { kind: 'popular', version: '1' },
      { kind: 'latest', version: '1' },
    ];
    const placements = { 'model-corrupt': versions.corrupt, 'model-throws': versions.throws };
    for (const [name, version] of Object.entries(placements)) {
      const d = await admin('PUT', `/v1/admin/deployments/${name}`, { live: { kind: 'model', version: String(version) }, fallbacks });
      // The running server picks the deployment up by polling (bounded wait).
      const deadline = Date.now() + 20_000;
      for (;;) {
        const res = await fetch(`${server.url}/v1/admin/deployments/${name}`, { headers: { authorization: `Bearer ${MODEL_ADMIN_KEY}` } });
        if (res.status === 200 && ((await res.json()) as { revision: number }).revision >= d.revision) break;
        if (Date.now() > deadline) throw new Error(`the server did not pick up the deployment of ${name}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const before = await faultCounts(server.url);
    const statuses: Record<string, number> = {};
    const wrong: string[] = [];
    const servedBy: Record<string, Record<string, number>> = {};
    const perPlacement: Record<string, number> = {};
    const one = async (placement: string, i: number) => {
      perPlacement[placement] = (perPlacement[placement] ?? 0) + 1;
      const res = await fetch(`${server.url}/v1/recommendations?placement=${placement}&article=m${i % ARTICLES}&reader=r${i % 61}&k=4`, {
        headers: { 'user-agent': BROWSER_UA },
      });
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const text = await res.text();
      if (res.status !== 200) return void wrong.push(`${placement}: ${res.status} ${text.slice(0, 160)}`);
      const b = JSON.parse(text) as { fallback: boolean; recommender: { kind: string }; items: unknown[] };
      const by = (servedBy[placement] ??= {});
      by[b.recommender.kind] = (by[b.recommender.kind] ?? 0) + 1;
      // The reader sees the fallback chain's slate: items, flagged fallback.
      if (!b.fallback || b.items.length === 0) wrong.push(`${placement}: fallback ${b.fallback}, ${b.items.length} items`);
    };
    // Four readers at a time, both placements interleaved.
    const names = Object.keys(placements);
    let next = 0;
    const total = requests * names.length;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = next++; i < total; i = next++) await one(names[i % names.length]!, i);
      }),
    );
    const after = await faultCounts(server.url);
    const faultsCounted = Object.fromEntries(names.map((n) => [n, (after[n] ?? 0) - (before[n] ?? 0)]));
    return { requests: total, perPlacement, statuses, wrong, faultsCounted, servedBy, ms: Math.round(performance.now() - t0) };
  } finally {
    await server.kill('SIGTERM');
  }
}

export function formatModelFaults(r: ModelFaultsReport): string {
  return (
    `model faults: ${r.requests} requests (${JSON.stringify(r.perPlacement)}), statuses ${JSON.stringify(r.statuses)}, ` +
    `${r.wrong.length} wrong answers, faults counted ${JSON.stringify(r.faultsCounted)}, served by ${JSON.stringify(r.servedBy)}, ` +
    `${(r.ms / 1000).toFixed(1)} s`
  );
}
