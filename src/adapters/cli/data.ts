/**
 * `readnext data report`: the data report's quality and stability parts (src/app/data-report.ts),
 * as short text sections or as JSON. The use case is imported when the command runs, so
 * `readnext --help` loads none of it. Tests: test/adapters/cli/data.test.ts.
 */
import type { Command } from 'commander';
import type { DataReport, DataReportDeps } from '../../app/data-report.js';

/** What the data commands need from the composition root. */
export interface DataDeps {
  out(line: string): void;
  now(): number;
  /** The stores the report reads: the configured database unless `db` is given. */
  open(db: string | undefined): Promise<DataReportDeps & { close(): Promise<void> }>;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const int = (x: number) => x.toLocaleString('en-US');
const fixed = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? 'n/a' : x.toFixed(d));
const list = (r: Record<string, number>) =>
  Object.entries(r)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k} ${int(v)}`)
    .join(', ');

/** The report as short text sections: quality, stability (per day, features, model), signal, alerts. */
export function reportText(r: DataReport): string[] {
  const q = r.quality;
  const s = r.stability;
  const out: string[] = [];
  const days = Math.round((r.window.untilTs - r.window.sinceTs) / 86_400_000);
  out.push(
    `data report ${new Date(r.window.sinceTs).toISOString()} .. ${new Date(r.window.untilTs).toISOString()} (${days} days)` +
      (s.features ? `, features of ${s.features.placement}` : ''),
  );
  out.push('', 'quality');
  out.push(`  events                        ${int(q.events)}${q.events > 0 ? ` (${list(q.byType)})` : ''}`);
  out.push(
    `  rejected                      ${int(q.rejections.total)}${q.rejections.total > 0 ? ` (${list(q.rejections.byReason)})` : ''}; ` +
      `duplicates ${int(q.duplicates)}, conflicts ${int(q.conflicts)}, same-content repeats ${int(q.sameContentRepeats)}`,
  );
  out.push(
    `  unknown articles              ${int(q.unknownArticles.events)} of ${int(q.unknownArticles.withArticle)} (${pct(q.unknownArticles.share)})`,
  );
  out.push(
    `  impressions without a serve   ${int(q.impressionsWithoutServe.count)} of ${int(q.impressionsWithoutServe.impressions)} (${pct(q.impressionsWithoutServe.share)})`,
  );
  out.push(
    `  clicks without an impression  ${int(q.clicksWithoutImpression.count)} of ${int(q.clicksWithoutImpression.clicks)} (${pct(q.clicksWithoutImpression.share)})`,
  );
  out.push(
    `  clock skew |client − server|  median ${q.clockSkewMs.median ?? 'n/a'} ms, p99 ${q.clockSkewMs.p99 ?? 'n/a'} ms over ${int(q.clockSkewMs.events)} events`,
  );
  out.push(`  bots                          ${q.bots.note}`);
  out.push(
    `  catalog                       ${int(q.catalog.articles)} articles, ${int(q.catalog.withoutText)} without text, ${int(q.catalog.withoutSection)} without a section`,
  );

  out.push('', 'stability (per UTC day; CTR = clicks / impressions of each placement)');
  for (const d of s.days) {
    const ctr = Object.entries(d.ctr)
      .map(([p, c]) => `${p} ${c.ctr === null ? 'n/a' : pct(c.ctr)} of ${int(c.impressions)}`)
      .join(', ');
    const mix = Object.entries(d.sections)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, v]) => `${k} ${pct(d.reads > 0 ? v / d.reads : 0)}`)
      .join(' ');
    out.push(
      `  ${d.day}  ctr ${ctr || 'n/a'}; reads ${int(d.reads)} by ${int(d.activeReaders)} readers (${fixed(d.readsPerReader, 2)} each)${mix ? `; ${mix}` : ''}`,
    );
  }
  if (s.features) {
    const [a, b] = s.features.halves;
    out.push(
      '',
      `  features of ${s.features.placement}, first half against last half (${int(a!.sampled)} of ${int(a!.rows)} and ${int(b!.sampled)} of ${int(b!.rows)} rows):`,
    );
    const moved = s.features.features.filter((f) => f.level !== 'stable' || f.ksD >= 0.1);
    if (s.featureNote) out.push(`    ${s.featureNote}`);
    if (moved.length === 0) out.push('    every feature stable (PSI < 0.1, KS D < 0.1)');
    for (const f of moved)
      out.push(`    ${f.name.padEnd(22)} PSI ${fixed(f.psi)} ${f.level}, KS D ${fixed(f.ksD)} (p ${f.ksP.toExponential(1)})`);
  } else out.push('', `  features: ${s.featureNote ?? 'n/a'}`);
  if (s.modelDecay) {
    const m = s.modelDecay;
    out.push(
      `  model ${m.version}: AUC ${fixed(m.currentAuc)} on the latest half (${int(m.examples)} examples) against ${fixed(m.offlineAuc)} offline, drop ${fixed(m.drop)}` +
        (m.overlapsTraining ? ' (the latest half overlaps its training window: optimistic)' : ''),
    );
  } else out.push(`  model decay: ${s.modelNote ?? 'n/a'}`);

  const g = r.signal;
  if (g === null) out.push('', 'signal: n/a (no placement with impressions in the window)');
  else {
    out.push('', `signal (${g.window.test.impressions} test impressions of ${g.placement}, the latest 30%)`);
    const lift = (name: string, m: { best: number; random: number; lift: number; low: number; high: number } | null) =>
      m &&
      out.push(
        `  ${name.padEnd(8)} ${g.lift.best}: ${fixed(m.best)} vs random ${fixed(m.random)}, lift ${fixed(m.lift)} [${fixed(m.low)}, ${fixed(m.high)}]`,
      );
    lift('AUC', g.lift.auc);
    lift('nDCG@10', g.lift.ndcg10);
    out.push(
      `  learning curve (AUC by share of the training part): ${g.learningCurve.map((p) => `${p.share * 100}% ${fixed(p.auc)}`).join(', ')}`,
    );
    out.push(`  ${g.moreData.sentence}`);
    out.push(`  verdict: ${g.verdict}`);
  }
  out.push('', `alerts: ${r.alerts.length}`);
  for (const a of r.alerts) out.push(`  ${a.day}  ${a.check}${a.subject ? ` ${a.subject}` : ''}: ${a.message}`);
  return out;
}

export function registerData(program: Command, deps: DataDeps): void {
  const data = program.command('data').description('reports on the stored data');
  data
    .command('report')
    .description(
      'quality and stability of the stored events: rejections, orphans, clock skew, daily CTR, section mix, feature drift, model decay',
    )
    .option('--since <date>', 'first day (2026-03-01, UTC) or ISO time of the window (default: 14 days before --until)')
    .option('--until <date>', 'end of the window, excluded (default: now)')
    .option('--placement <name>', 'placement of the feature drift and model decay (default: the one with most impressions)')
    .option('--json', 'print the report as JSON')
    .option('--db <url>', 'database URL')
    .action(async (o: { since?: string; until?: string; placement?: string; json?: boolean; db?: string }) => {
      const { dataReport, reportWindow } = await import('../../app/data-report.js');
      const s = await deps.open(o.db);
      let report: DataReport;
      try {
        // Now once the database is open: on a simulated one, its simulated time.
        const now = deps.now();
        const window = reportWindow(o, now);
        report = await dataReport(s, { ...window, now, ...(o.placement === undefined ? {} : { placement: o.placement }) });
      } finally {
        await s.close();
      }
      if (o.json) deps.out(JSON.stringify(report, null, 2));
      else for (const line of reportText(report)) deps.out(line);
    });
}
