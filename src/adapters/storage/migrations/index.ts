import type { Migration, MigrationProvider } from 'kysely';
import { foundation } from './0001-foundation.js';
import { placements } from './0002-placements.js';
import { deployments } from './0003-deployments.js';
import { fewerServeIndexes } from './0004-fewer-serve-indexes.js';
import { analysisRollups } from './0005-analysis-rollups.js';
import { bodyToExtra } from './0006-event-extra.js';
import { readerDaysByDay } from './0007-reader-days-by-day.js';
import { idsCollateC } from './0008-ids-collate-c.js';
import { servesOneIndex } from './0009-serves-one-index.js';
import { reportOverReceiveTime } from './0010-report-over-receive-time.js';
import { meta } from './0011-meta.js';
import { models } from './0012-models.js';
import { eventRejections } from './0013-event-rejections.js';
import { serveExploration } from './0014-serve-exploration.js';
import { roiRevisions } from './0015-roi-revisions.js';
import { experimentSnapshots } from './0016-experiment-snapshots.js';
import { readerErasures } from './0017-reader-erasures.js';
import { scopedKeys } from './0018-scoped-keys.js';
import { rollupWatermark } from './0019-rollup-watermark.js';
import { rollupCursorEvent } from './0020-rollup-cursor-event.js';
import { exposureSessionIds } from './0021-exposure-session-ids.js';
import { rollupDeltas } from './0022-rollup-deltas.js';
import { exposuresReaderCovering } from './0023-exposures-reader-covering.js';
import { postgresExposureSessionIds } from './0024-postgres-exposure-session-ids.js';
import { postgresExposuresFillfactor } from './0025-postgres-exposures-fillfactor.js';

/**
 * Versioned migrations, applied in name order at every start (Kysely's Migrator records what ran
 * and takes a lock, so several processes starting together are safe). Written once with Kysely's
 * schema builder for both dialects; `autoIncrement` vs `serial` is the one dialect branch.
 *
 * Frozen: never edit a released migration, add the next one. A migration imports nothing but
 * `kysely` and its siblings here (test/adapters/storage/migrations.test.ts): what it needs of the
 * live code is copied in as it was on release (0006), so changing the live code cannot change
 * what an old migration does to a database that has not run it yet. The names are what databases
 * record as applied: they never change.
 */
const MIGRATIONS: Record<string, (dialect: 'sqlite' | 'postgres') => Migration> = {
  '0001_foundation': foundation,
  '0002_placements': placements,
  '0003_deployments': deployments,
  '0004_fewer_serve_indexes': fewerServeIndexes,
  '0005_analysis_rollups': analysisRollups,
  '0006_event_extra': bodyToExtra,
  '0007_reader_days_by_day': readerDaysByDay,
  '0008_ids_collate_c': idsCollateC,
  '0009_serves_one_index': servesOneIndex,
  '0010_report_over_receive_time': reportOverReceiveTime,
  '0011_meta': meta,
  '0012_models': models,
  '0013_event_rejections': eventRejections,
  '0014_serve_exploration': serveExploration,
  '0015_roi_revisions': roiRevisions,
  '0016_experiment_snapshots': experimentSnapshots,
  '0017_reader_erasures': readerErasures,
  '0018_scoped_keys': scopedKeys,
  '0019_rollup_watermark': rollupWatermark,
  '0020_rollup_cursor_event': rollupCursorEvent,
  '0021_exposure_session_ids': exposureSessionIds,
  '0022_rollup_deltas': rollupDeltas,
  '0023_exposures_reader_covering': exposuresReaderCovering,
  '0024_postgres_exposure_session_ids': postgresExposureSessionIds,
  '0025_postgres_exposures_fillfactor': postgresExposuresFillfactor,
};

export function migrationProvider(dialect: 'sqlite' | 'postgres'): MigrationProvider {
  return { getMigrations: async () => Object.fromEntries(Object.entries(MIGRATIONS).map(([name, m]) => [name, m(dialect)])) };
}
