// What serves a placement, as GET /v1/admin/deployments answers it: shared by the Deployments page
// (which also changes it) and the Overview (which only shows it).
import type { PlacementConfig } from '../../../core/recommend/placement.js';
import type { RecommenderConfig } from '../../../core/recommend/types.js';
import { api } from './api.js';
import { fmt, pct } from './use-load.js';

/** GET /v1/admin/deployments: each placement's config, its revision and the experiments on it. */
export type Deployment = PlacementConfig & { revision: number; experiments: string[] };

export const fetchDeployments = () => api<{ version: number; items: Deployment[] }>('GET', '/v1/admin/deployments');

/** A recommender as people name it: kind@version ("none" when unset). */
export const rec = (r: RecommenderConfig | null | undefined): string => (r ? `${r.kind}@${r.version}` : 'none');

/** Live, shadows, canary, exploration share, experiments and fallbacks of a placement, as a definition list. */
export function PlacementFacts({ d }: { d: Deployment }) {
  return (
    <dl class="facts">
      <dt>Live</dt>
      <dd data-testid="live">{rec(d.live)}</dd>
      <dt>Shadows</dt>
      <dd>{d.shadows.length ? d.shadows.map(rec).join(', ') : 'none'}</dd>
      <dt>Canary</dt>
      <dd>{d.canary ? `${rec(d.canary.recommender)} on ${fmt(d.canary.percent)}% of readers` : 'none'}</dd>
      <dt>Exploration</dt>
      <dd>{d.exploration ? `${pct(d.exploration.share)} of slates` : 'none'}</dd>
      <dt>Experiments</dt>
      <dd>{d.experiments.length ? d.experiments.join(', ') : 'none'}</dd>
      <dt>Fallbacks</dt>
      <dd>{d.fallbacks.map(rec).join(', ') || 'none'}</dd>
    </dl>
  );
}
