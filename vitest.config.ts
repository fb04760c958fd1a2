import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Seconds the slowest files took in a full run (2026-12-07, 2 idle AMD EPYC cores, 186 files, vitest
 * 1,044 s of wall time). Only their order matters: a rough figure is enough, and a file not listed
 * counts as fast.
 */
const SLOW_FILES: Readonly<Record<string, number>> = {
  'test/app/drift-world.test.ts': 318,
  'test/main/demo.test.ts': 194,
  'test/faults/kill-cycles.test.ts': 109,
  'test/adapters/http/fuzz-events.test.ts': 80, // 136 before its arbitraries were built once (61 s alone after)
  'test/calibration/calibration.test.ts': 79,
  'test/calibration/tie-model.test.ts': 70,
  'test/adapters/web/sdk-queue.browser.test.ts': 70,
  'test/app/data-report.test.ts': 57,
  'test/app/roi-loop.test.ts': 50,
  'test/main/model-e2e.test.ts': 49,
  'test/main/jobs.test.ts': 39,
  'test/adapters/http/fuzz-admin.test.ts': 29, // 35 before, 22 s alone after
  'test/adapters/web/browser.test.ts': 31,
  'test/main/simulate-cli.test.ts': 30,
  'test/app/data-signal.test.ts': 25,
  'test/app/sim-warmup.test.ts': 22,
  'test/adapters/web/deployments.browser.test.ts': 18,
  'test/adapters/web/experiments.browser.test.ts': 17,
  'test/app/model-wins.test.ts': 13,
  'test/faults/pg-outage.test.ts': 12,
};

/**
 * Longest first (the LPT rule for scheduling jobs on parallel machines, Graham 1969), so that the
 * two workers finish together. Without a results cache (a clean clone, as CI runs) vitest orders
 * files by size, which started test/faults/kill-cycles.test.ts (109 s, a small file) 935 s into a
 * 1,044 s run, with the other worker idle for its last minute. The files not listed keep vitest's
 * order (Array.prototype.sort is stable).
 */
class SlowFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = (f: TestSpecification): number => SLOW_FILES[relative(this.ctx.config.root, f.moduleId).split('\\').join('/')] ?? 0;
    return (await super.sort(files)).sort((a, b) => seconds(b) - seconds(a));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Storage suites open real databases; keep files in separate processes but few at a time (2 cores).
    pool: 'forks',
    maxWorkers: 2,
    sequence: { sequencer: SlowFilesFirst },
  },
});
