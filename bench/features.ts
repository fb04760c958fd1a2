/**
 * The learned ranker's per-request work in process (issue 17): `FeatureState.candidates` and
 * `FeatureState.features` on bench:serve's workload, without HTTP, storage or trees, so a change to
 * either shows in microseconds per request and in a CPU profile that holds nothing else.
 *
 *   node bin/tsnode.mjs bench/features.ts [--requests N] [--rounds R]
 *   node --cpu-prof --cpu-prof-dir=.bench bin/tsnode.mjs bench/features.ts   (a profile)
 *
 * Workload: the real items of ../shared/data/wikipedia-current-events with their dates rebased to
 * now, then bench:serve's synthetic traffic (VisitStream: 50,000 readers, the 300 newest articles,
 * an impression after each page view), 1,000,000 events (BENCH_EVENTS) fed to one FeatureState as
 * the server's FreshState feeds it. Requests: a reader of the workload on one of the pool's
 * articles (as bench:serve's URLs), eligibility as serving's (showable within the 72 h TTL, not
 * the current article, not read by the reader as the state knows), then candidates (cap 200, the
 * kind's default) and their feature rows. Printed per round: microseconds per request of each step
 * and candidates per request; then the median of the rounds. A digest of the feature rows checks
 * that two versions of the code compute the same values.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { rebaseDates, type Article } from '../src/core/catalog/article.js';
import { parseWikipediaCurrentEventsItem } from '../src/core/catalog/formats/wikipedia.js';
import { CatalogIndex } from '../src/core/recommend/catalog-index.js';
import { FeatureState, type CandidateStats } from '../src/core/ml/features.js';
import { impressionOf, signalOf } from '../src/core/recommend/signals.js';
import { seededRng } from '../src/core/kernel/rng.js';
import { SERVE_WORKLOAD, serveWorkload } from './impressions.js';
import { REPO_ROOT, envNumber, fixed, int, median, progressLogger } from './lib.js';

const DATA = resolve(REPO_ROOT, '../shared/data/wikipedia-current-events/items.jsonl');
const EVENTS = Math.round(envNumber('BENCH_EVENTS', 1_000_000, 1000));
const SEED = SERVE_WORKLOAD.seed;
const TTL_MS = 72 * 3_600_000;
const progress = progressLogger();

function args(argv: string[]): { requests: number; rounds: number; evictKb: number } {
  const out = { requests: 20_000, rounds: 5, evictKb: 0 };
  for (let i = 0; i < argv.length; i++) {
    const v = Number(argv[i + 1]);
    if (argv[i] === '--requests' && Number.isInteger(v) && v > 0) out.requests = v;
    else if (argv[i] === '--rounds' && Number.isInteger(v) && v > 0) out.rounds = v;
    else if (argv[i] === '--evict' && Number.isInteger(v) && v >= 0) out.evictKb = v;
    else {
      console.error(`usage: node bin/tsnode.mjs bench/features.ts [--requests N] [--rounds R] [--evict KB] (not ${argv[i]})`);
      process.exit(2);
    }
    i++;
  }
  return out;
}

function main(): void {
  const opts = args(process.argv.slice(2));
  let text: string;
  try {
    text = readFileSync(DATA, 'utf8');
  } catch {
    console.error(`bench/features.ts needs the real items at ${DATA} (the shared data checkout next to this repository); not found`);
    process.exit(2);
  }
  const now = Date.now();
  const parsed: Article[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const p = parseWikipediaCurrentEventsItem(JSON.parse(line));
    if (p.ok) parsed.push(p.article);
  }
  const articles = rebaseDates(parsed, now);
  const catalog = new CatalogIndex(articles);
  const { w, layer } = serveWorkload(articles, now);
  const fs = new FeatureState(catalog);
  const read = new Map<string, Set<string>>();
  const t0 = performance.now();
  let n = 0;
  for (const e of layer!.around(w.events(EVENTS, now))) {
    n++;
    const s = signalOf(e);
    if (s) {
      fs.add(s);
      if (s.kind === 'read') {
        let set = read.get(s.readerId);
        if (set === undefined) read.set(s.readerId, (set = new Set()));
        set.add(s.articleId);
      }
    }
    const imp = impressionOf(e);
    if (imp) fs.shown(imp.readerId, imp.articleIds, imp.ts);
  }
  progress(
    `${int(articles.length)} articles, ${int(n)} events (${int(EVENTS)} reading + impressions) fed in ${fixed((performance.now() - t0) / 1000)} s`,
  );

  const rng = seededRng(SEED + 3);
  const horizon = now - TTL_MS;
  const queries = Array.from({ length: opts.requests }, () => ({
    readerId: w.readerId(w.drawReader()),
    articleId: w.pool[rng.int(w.pool.length)]!.id,
    ts: now,
  }));
  const stats: CandidateStats[] = [];
  let X = new Float32Array(200 * fs.dimensions);
  const rounds: { cand: number; feat: number; per: number }[] = [];
  let digest = 0;
  // --evict: between requests, walk KB of other memory, as a server's other work per request does (HTTP, JSON, SQLite).
  const evict = new Float64Array((opts.evictKb * 1024) / 8);
  let sink = 0;
  for (let r = 0; r < opts.rounds; r++) {
    let tc = 0;
    let tf = 0;
    let count = 0;
    digest = 0;
    for (const q of queries) {
      const mine = read.get(q.readerId!);
      const eligible = (id: string): boolean => {
        if (id === q.articleId || mine?.has(id)) return false;
        const a = catalog.get(id);
        return a !== undefined && a.status === 'published' && a.publishedAt <= now && (a.expiresAt ?? a.publishedAt + TTL_MS) > now;
      };
      for (let i = 0; i < evict.length; i += 8) sink += evict[i]! += 1;
      const a = performance.now();
      const ids = fs.candidates(q, eligible, 200, horizon, stats);
      const b = performance.now();
      if (X.length < ids.length * fs.dimensions) X = new Float32Array(ids.length * fs.dimensions);
      fs.features(q, ids, X, 0, stats);
      const c = performance.now();
      tc += b - a;
      tf += c - b;
      count += ids.length;
      for (let i = 0; i < ids.length * fs.dimensions; i++) digest = (digest * 31 + Math.round(X[i]! * 1e4)) % 1_000_000_007;
    }
    const k = queries.length;
    rounds.push({ cand: (1000 * tc) / k, feat: (1000 * tf) / k, per: count / k });
    console.log(
      `round ${r + 1}: candidates ${fixed((1000 * tc) / k, 1)} us, features ${fixed((1000 * tf) / k, 1)} us per request; ${fixed(count / k, 1)} candidates per request`,
    );
  }
  const mc = median(rounds.map((x) => x.cand));
  const mf = median(rounds.map((x) => x.feat));
  console.log(
    `median of ${rounds.length} rounds of ${int(opts.requests)} requests: candidates ${fixed(mc, 1)} us, features ${fixed(mf, 1)} us, together ${fixed(mc + mf, 1)} us per request (${fixed(mf / rounds[0]!.per, 2)} us per candidate row)`,
  );
  console.log(`digest of the last round's feature rows: ${digest}${sink < 0 ? '' : ''}`);
}

main();
