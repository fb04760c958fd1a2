import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../scripts/build.mjs';
import { BACKENDS } from '../helpers/databases.js';
import { formatReport, killServers, runKillCycles } from './kill-cycles.js';

// Issue 22: `readnext serve` killed with SIGKILL during sustained ingestion, 20 times over on one
// database, must neither lose an acknowledged event nor store one twice (kill-cycles.ts says how).
// The seed is fixed so a failure replays the same kill moments; READNEXT_FAULT_SEED changes it.
const CYCLES = 20;
const SEED = Number(process.env.READNEXT_FAULT_SEED ?? 22);

const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => {
  await ensureBuilt(); // each cycle then starts the bundle without the staleness walk (READNEXT_NO_REBUILD)
}, 180_000);
afterAll(async () => {
  killServers();
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe('SIGKILL during ingestion, restart, repeat', () => {
  for (const backend of BACKENDS) {
    it.skipIf(!backend.enabled)(
      `keeps every acknowledged event exactly once over ${CYCLES} kill cycles (${backend.name})`,
      async () => {
        const { url, cleanup } = await backend.create();
        cleanups.push(cleanup);
        const report = await runKillCycles({ db: url, cycles: CYCLES, seed: SEED });
        console.log(formatReport(report));
        expect(report.cycles).toBe(CYCLES);
        expect(report.acknowledged).toBeGreaterThan(CYCLES * 100);
        expect(report.batchesResent).toBeGreaterThan(0);
        expect(report.lost).toEqual([]);
        expect(report.duplicated).toEqual([]);
        expect(report.unknown).toEqual([]);
        expect(report.wrongAnswers).toEqual([]);
        expect(report.stored).toBeGreaterThanOrEqual(report.acknowledged);
        expect(report.stored).toBeLessThanOrEqual(report.eventsSent);
      },
      120_000,
    );
  }
});
