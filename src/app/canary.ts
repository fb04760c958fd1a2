import type { Clock } from '../core/kernel/clock.js';
import { percentile } from '../core/experiments/shadow.js';
import { sequentialTest } from '../core/stats/sequential.js';
import { proportionStat } from '../core/stats/statistics.js';
import type { Guardrails } from '../core/recommend/placement.js';
import type { DeploymentAdmin } from './deploy-admin.js';
import type { LivePlacements } from './live-placements.js';
import type { RecordStore } from './ports.js';
import { Counts } from './counts.js';

/** Error rate of the CTR guardrail's always-valid test. */
const CTR_ALPHA = 0.05;

export interface CanaryCheck {
  placement: string;
  responses: number;
  errorRate: number;
  p99LatencyMs: number;
  canaryCtr: number | null;
  liveCtr: number | null;
  breaches: string[];
  rolledBack: boolean;
}

/**
 * Guardrails of a canary, checked on the `serve` records of every process (they share the
 * database): 1. error rate and 2. p99 latency of the canary's responses once it has `minResponses`,
 * 3. CTR of the canary against the live arm once both have `minImpressions`, by an always-valid
 * sequential test (looking every few seconds does not inflate false rollbacks). A breach removes the canary (a new
 * audited revision with the reasons); several processes may check at once, and the revision
 * compare-and-set lets only one roll back.
 */
export function evaluateGuardrails(
  g: Guardrails,
  canary: { latencies: number[]; faults: number; impressions: number; clicks: number },
  live: { impressions: number; clicks: number },
): Omit<CanaryCheck, 'placement' | 'rolledBack'> {
  const n = canary.latencies.length;
  const errorRate = n === 0 ? 0 : canary.faults / n;
  const p99 = n === 0 ? 0 : percentile(canary.latencies, 99);
  const canaryCtr = canary.impressions > 0 ? canary.clicks / canary.impressions : null;
  const liveCtr = live.impressions > 0 ? live.clicks / live.impressions : null;
  const breaches: string[] = [];
  if (n >= g.minResponses) {
    if (errorRate > g.maxErrorRate) breaches.push(`error rate ${errorRate.toFixed(4)} > ${g.maxErrorRate}`);
    if (p99 > g.maxP99LatencyMs) breaches.push(`p99 latency ${p99.toFixed(2)} ms > ${g.maxP99LatencyMs} ms`);
  }
  if (
    canary.impressions >= g.minImpressions &&
    live.impressions >= g.minImpressions &&
    liveCtr !== null &&
    liveCtr > 0 &&
    canaryCtr !== null
  ) {
    // Checked continuously, so an always-valid test: the sequential engine's confidence sequence
    // for the relative CTR difference (impressions as units, clicks as conversions; Waudby-Smith et
    // al., as in GrowthBook). Breach when the whole sequence lies below minCtrRatio − 1, i.e. the
    // canary's CTR is confidently under minCtrRatio × live, however often we look.
    // Half a click and one impression added to each side (the Haldane-Anscombe correction), so a
    // canary with no click at all still has a variance and can be tested.
    const ctr = (clicks: number, impressions: number) => proportionStat({ n: impressions + 1, sum: Math.min(clicks, impressions) + 0.5 });
    const r = sequentialTest(ctr(live.clicks, live.impressions), ctr(canary.clicks, canary.impressions), {
      alpha: CTR_ALPHA,
      sides: 'two',
      difference: 'relative',
    });
    if (r.error === null && r.ci[1] < g.minCtrRatio - 1) {
      breaches.push(
        `CTR ${canaryCtr.toFixed(4)} confidently below ${g.minCtrRatio} × live ${liveCtr.toFixed(4)} (always-valid upper bound of the relative change ${(r.ci[1] * 100).toFixed(1)}%)`,
      );
    }
  }
  return { responses: n, errorRate, p99LatencyMs: p99, canaryCtr, liveCtr, breaches };
}

export class CanaryGuard {
  /** Guardrail checks and rollbacks by this process since it started, per placement (read by /metrics). */
  readonly counts = { checks: new Counts(), rollbacks: new Counts() };

  constructor(
    private readonly placements: Pick<LivePlacements, 'list'>,
    private readonly admin: Pick<DeploymentAdmin, 'stopCanary'>,
    private readonly records: RecordStore,
    private readonly clock: Clock,
    private readonly log: (msg: string) => void,
  ) {}

  /** Checks every canary once; rolls back the ones that breach. */
  async checkAll(): Promise<CanaryCheck[]> {
    const out: CanaryCheck[] = [];
    for (const p of this.placements.list()) {
      const c = p.config.canary;
      if (!c) continue;
      const serves = await this.records.servesSince(p.config.name, c.startedTs, 200_000);
      const mine = serves.filter((s) => !s.shadow && s.arm === 'canary');
      const engagement = await this.records.engagementByArm(p.config.name, c.startedTs);
      const canaryE = engagement.find((e) => e.arm === 'canary') ?? { impressions: 0, clicks: 0 };
      const liveE = engagement.find((e) => e.arm === null) ?? { impressions: 0, clicks: 0 };
      const r = evaluateGuardrails(
        c.guardrails,
        { latencies: mine.map((s) => s.latencyMs), faults: mine.filter((s) => s.fault).length, ...canaryE },
        liveE,
      );
      let rolledBack = false;
      this.counts.checks.add(p.config.name);
      if (r.breaches.length > 0) {
        try {
          // The revision judged here: if another process rolled back (or redeployed) meanwhile, this is a conflict.
          await this.admin.stopCanary(
            p.config.name,
            { actor: 'guardrail', reason: `canary ${c.recommender.kind}@${c.recommender.version} rolled back: ${r.breaches.join('; ')}` },
            { action: 'canary rollback', expectedRevision: p.revision },
          );
          rolledBack = true;
          this.counts.rollbacks.add(p.config.name);
          this.log(`canary on ${p.config.name} rolled back: ${r.breaches.join('; ')}`);
        } catch (e) {
          // Another process rolled it back first (revision conflict): nothing left to do.
          this.log(`canary rollback on ${p.config.name} skipped: ${(e as Error).message}`);
        }
      }
      out.push({ placement: p.config.name, ...r, rolledBack });
    }
    return out;
  }

  private timer: NodeJS.Timeout | undefined;

  start(everyMs: number): void {
    this.timer = setInterval(() => void this.checkAll().catch((e: Error) => this.log(`canary check failed: ${e.message}`)), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
