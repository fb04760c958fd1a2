import { DomainError } from '../core/kernel/errors.js';
import type { ServeRecord } from '../core/events/records.js';
import {
  checkSupport,
  dr,
  estimateExamination,
  ips,
  pbm,
  replay,
  snips,
  type LoggedRound,
  type OpeEstimate,
  type OpeEstimatorName,
  type OpeRefusal,
} from '../core/ope/estimators.js';
import type { RecordStore } from './ports.js';

/** Serve records read per window at most (the newest are dropped beyond: the report says so). */
const MAX_SERVES = 2_000_000;

export interface OpeRequest {
  placement: string;
  candidate: { kind: string; version: string };
  sinceTs: number;
  untilTs: number;
}

export interface OpeReport {
  placement: string;
  candidate: string;
  sinceTs: number;
  untilTs: number;
  /** Logged requests of the window with exploration on and an impression, and those of them explored. */
  rounds: number;
  explored: number;
  /** Slate size K of the rounds (the modal one; rounds of other sizes are left out). */
  slateSize: number;
  /** The live recommender's measured clicks per slate on the same rounds, with a 95% interval (CLT). */
  live: { recommender: string; clicksPerSlate: number; ci: [number, number] };
  /** Examination probabilities θ_p / θ_1 estimated from the explored slates (PBM); null when they could not be. */
  examination: number[] | null;
  /** Each estimator's estimate, or why it refused. */
  estimates: Record<OpeEstimatorName, { ok: true; estimate: OpeEstimate } | OpeRefusal>;
}

/**
 * Off-policy evaluation of a candidate on a placement's logged exploration (issue 18): what clicks
 * per slate the candidate would have earned on the logged requests, beside what the live
 * recommender earned on them.
 *
 * The logged rounds are the placement's live (non-shadow) serve records of [sinceTs, untilTs) that
 * carry exploration (explore.ts) and were shown (an impression names their recommId); clicks are
 * the click events naming the recommId and a shown article. The candidate's slate on each request
 * is its shadow record of the same recommId (computed on the same request, with the same
 * eligibility: `readnext deploy shadow add`), or, for the live recommender itself, the pool's first
 * K (what it shows when not exploring). Pinned slots (propensity 1, the same for every policy)
 * are left out. Doubly robust takes its reward model from the candidate's own scores when it is a
 * learned ranker (`model`): q̂(b, p) = σ(score)·θ_p/θ_1 (its clicks were weighted to position 1 in
 * training); for other candidates it refuses and says so.
 *
 * Refuses (DomainError invalid_state, CLI exit 2) when the window has no exploration, or no logged
 * slate of the candidate: the estimators' own support checks (checkSupport) then speak per estimator.
 */
export async function offPolicyEstimate(records: RecordStore, req: OpeRequest): Promise<OpeReport> {
  const { logged, name, kept, K } = await loggedRounds(records, req);
  return estimateRounds(req, logged, name, kept, K);
}

/** One logged request as the estimators see it, with its recommId, the candidate's scores and the live clicks. */
export interface LoggedDraft {
  recommId: string;
  round: LoggedRound;
  scores: (number | null)[] | null;
  live: number;
}

/**
 * The logged rounds of a window (see offPolicyEstimate): the live serve records with exploration,
 * and the rounds kept (shown, with the candidate's slate, of the modal size K).
 */
export async function loggedRounds(
  records: RecordStore,
  req: OpeRequest,
): Promise<{ logged: ServeRecord[]; name: string; kept: LoggedDraft[]; K: number }> {
  const serves = (await records.servesSince(req.placement, req.sinceTs, MAX_SERVES)).filter((s) => s.servedTs < req.untilTs);
  const logged = serves.filter((s) => !s.shadow && s.exploration);
  const name = `${req.candidate.kind}@${req.candidate.version}`;
  if (logged.length === 0)
    throw new DomainError(
      'invalid_state',
      `no explored traffic on "${req.placement}" in the window: exploration is off (start it with readnext deploy explore ${req.placement} --share 0.05)`,
      { field: 'placement' },
    );
  const shadows = new Map<string, ServeRecord>();
  for (const s of serves)
    if (s.shadow && s.recommenderKind === req.candidate.kind && s.recommenderVersion === req.candidate.version) shadows.set(s.recommId, s);
  const isLive = (s: ServeRecord) => s.recommenderKind === req.candidate.kind && s.recommenderVersion === req.candidate.version;
  if (shadows.size === 0 && !logged.some(isLive))
    throw new DomainError(
      'invalid_state',
      `the logs never showed what ${name} would choose on "${req.placement}": it was neither live nor a shadow in the window (readnext deploy shadow add ${req.placement} ${name})`,
      { field: 'candidate' },
    );
  const engagement = await records.engagementOfServes(logged.map((s) => s.recommId));
  const drafts: LoggedDraft[] = [];
  for (const s of logged) {
    const e = engagement.get(s.recommId);
    if (!e?.impressed) continue;
    const ex = s.exploration!;
    const pool = new Set(ex.pool);
    // Pinned slots are the same under every policy: out of the rounds.
    const items = s.slate.filter((it) => pool.has(it.articleId));
    const shown = items.map((it) => it.articleId);
    const clicks: number[] = shown.map((id) => (e.clicked.has(id) ? 1 : 0));
    let candidate: string[];
    let scores: (number | null)[] | null = null;
    const shadow = shadows.get(s.recommId);
    if (shadow) {
      // The logged slate's pins (shown, outside the pool) are pins of the shadow's slate too.
      const pins = new Set(s.slate.filter((it) => !pool.has(it.articleId)).map((it) => it.articleId));
      const kept = shadow.slate.filter((it) => !pins.has(it.articleId)).slice(0, shown.length);
      candidate = kept.map((it) => it.articleId);
      scores = kept.map((it) => it.score);
    } else if (isLive(s)) candidate = ex.pool.slice(0, shown.length);
    else continue;
    drafts.push({
      recommId: s.recommId,
      round: {
        shown,
        clicks,
        pool: ex.pool,
        epsilon: ex.share,
        explored: ex.explored,
        candidate,
        ...(ex.shadows ? { shadows: ex.shadows } : {}),
      },
      scores,
      live: clicks.reduce((a, b) => a + b, 0),
    });
  }
  // One slate size K: the most common one (a short slate is a request with few eligible items).
  const sizes = new Map<number, number>();
  for (const d of drafts) sizes.set(d.round.shown.length, (sizes.get(d.round.shown.length) ?? 0) + 1);
  const K = [...sizes].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0] ?? 0;
  const kept = drafts.filter((d) => d.round.shown.length === K && K > 0);
  return { logged, name, kept, K };
}

function estimateRounds(req: OpeRequest, logged: ServeRecord[], name: string, kept: LoggedDraft[], K: number): OpeReport {
  const rounds = kept.map((d) => d.round);
  const liveClicks = kept.map((d) => d.live);
  const n = rounds.length;
  const mean = n > 0 ? liveClicks.reduce((a, b) => a + b, 0) / n : 0;
  const sd = n > 1 ? Math.sqrt(liveClicks.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const half = (1.959963984540054 * sd) / Math.sqrt(Math.max(1, n));

  const exam = estimateExamination(rounds);
  const theta = exam.ok ? exam.theta.map((t) => Math.max(t, 1e-6)) : null;
  const estimates = {} as OpeReport['estimates'];
  const guarded = (name: OpeEstimatorName, run: () => OpeReport['estimates'][OpeEstimatorName], extra = {}) => {
    const check = checkSupport(rounds, { estimator: name, ...extra });
    estimates[name] = check.ok ? run() : check;
  };
  guarded('replay', () => replay(rounds));
  guarded('ips', () => ips(rounds));
  guarded('snips', () => snips(rounds));
  if (theta) guarded('pbm', () => pbm(rounds, { examination: theta }), { examination: theta });
  else estimates.pbm = exam as OpeRefusal;
  // DR: the candidate's scores as its reward model (a learned ranker's log-odds).
  const withReward =
    req.candidate.kind === 'model' && theta
      ? kept.map((d) => {
          const sc = d.scores;
          if (!sc || sc.some((x) => x === null)) return d.round;
          return { ...d.round, reward: sc.map((x, p) => Math.min(1, (1 / (1 + Math.exp(-x!))) * (theta[p] ?? 1))) };
        })
      : rounds;
  if (req.candidate.kind !== 'model')
    estimates.dr = {
      ok: false,
      code: 'missing_reward',
      reason: `doubly robust needs a learned ranker's scores as its reward model: ${name} is not a model (evaluate a model@VERSION candidate)`,
    };
  else {
    const check = checkSupport(withReward, { estimator: 'dr' });
    estimates.dr = check.ok ? dr(withReward) : check;
  }
  return {
    placement: req.placement,
    candidate: name,
    sinceTs: req.sinceTs,
    untilTs: req.untilTs,
    rounds: n,
    explored: rounds.filter((r) => r.explored).length,
    slateSize: K,
    live: {
      recommender: logged[0] ? `${logged[0].recommenderKind}@${logged[0].recommenderVersion}` : '',
      clicksPerSlate: mean,
      ci: [mean - half, mean + half],
    },
    examination: theta,
    estimates,
  };
}
