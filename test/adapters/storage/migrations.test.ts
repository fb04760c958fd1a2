import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { migrationProvider } from '../../../src/adapters/storage/migrations/index.js';
import { kyselyOf } from '../../../src/adapters/storage/testing.js';
import { BACKENDS, openBackend, PG_URL } from '../../helpers/databases.js';

const DIR = resolve('src/adapters/storage/migrations');

/** Every module specifier a file imports or re-exports, statically or dynamically. */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
    /\brequire\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
  ];
  for (const p of patterns) for (const m of source.matchAll(p)) out.push(m[1]!);
  return out;
}

describe('migrations are frozen', () => {
  it('import nothing but kysely and each other (a change to live code cannot change an old migration)', () => {
    const files = readdirSync(DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThanOrEqual(11);
    const outside: string[] = [];
    for (const f of files) {
      for (const s of specifiers(readFileSync(join(DIR, f), 'utf8'))) {
        const inside = s.startsWith('.') && !relative(DIR, resolve(dirname(join(DIR, f)), s)).startsWith('..');
        if (s !== 'kysely' && !inside) outside.push(`${f}: ${s}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('catches an import from outside (the check above fires)', () => {
    expect(
      specifiers("import { eventExtra } from '../rows.js';\nimport type { X } from 'kysely';\nconst m = await import('node:fs');"),
    ).toEqual(['../rows.js', 'kysely', 'node:fs']);
  });

  it('keep the names databases have recorded, in order, for both dialects', async () => {
    const names = [
      '0001_foundation',
      '0002_placements',
      '0003_deployments',
      '0004_fewer_serve_indexes',
      '0005_analysis_rollups',
      '0006_event_extra',
      '0007_reader_days_by_day',
      '0008_ids_collate_c',
      '0009_serves_one_index',
      '0010_report_over_receive_time',
      '0011_meta',
      '0012_models',
      '0013_event_rejections',
      '0014_serve_exploration',
      '0015_roi_revisions',
      '0016_experiment_snapshots',
      '0017_reader_erasures',
      '0018_scoped_keys',
      '0019_rollup_watermark',
      '0020_rollup_cursor_event',
      '0021_exposure_session_ids',
      '0022_rollup_deltas',
      '0023_exposures_reader_covering',
      '0024_postgres_exposure_session_ids',
      '0025_postgres_exposures_fillfactor',
    ];
    for (const dialect of ['sqlite', 'postgres'] as const)
      expect(Object.keys(await migrationProvider(dialect).getMigrations())).toEqual(names);
  });
});

describe.skipIf(!PG_URL)('PostgreSQL: exposures keep room on their pages (0025)', () => {
  it('fills the pages of exposures to half, so that updating every row once adds no index entry (heap-only tuples)', async () => {
    const { storage, cleanup } = await openBackend(BACKENDS.find((b) => b.name === 'postgres')!);
    try {
      const db = kyselyOf(storage);
      const { rows } = await sql<{ o: string[] | null }>`select reloptions as o from pg_class where relname = 'exposures'`.execute(db);
      expect(rows[0]?.o).toEqual(['fillfactor=50']);
      // As a rollup pass does: every exposure's sums once. The transaction's own counters say how
      // many updates were heap-only; with full pages (fillfactor 100) most of them were not.
      const counts = await db.transaction().execute(async (trx) => {
        await sql`insert into exposures (experiment, phase, reader_id, arm, hash_version, exposed_ts)
          select 'e', 1, 'r' || i, 'control', 1, 0 from generate_series(1, 2000) i`.execute(trx);
        await sql`update exposures set reads = reads + 1, dwell_ms = dwell_ms + 1000`.execute(trx);
        const [c] = (
          await sql<{ updated: string; hot: string }>`select pg_stat_get_xact_tuples_updated('exposures'::regclass) as updated,
            pg_stat_get_xact_tuples_hot_updated('exposures'::regclass) as hot`.execute(trx)
        ).rows;
        return { updated: Number(c!.updated), hot: Number(c!.hot) };
      });
      expect(counts).toEqual({ updated: 2000, hot: 2000 });
    } finally {
      await cleanup();
    }
  });
});
