/**
 * What a killed run leaves behind is swept by the next start (test/faults/pg-cluster.ts): a
 * directory whose owner process is gone goes, one whose owner runs stays, and one without an owner
 * file stays while it may still be being made. No PostgreSQL is needed: the directories are fakes
 * without a postmaster.pid, so nothing is stopped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sweepAbandonedClusters } from './pg-cluster.js';

const parent = mkdtempSync(join(tmpdir(), 'readnext-sweep-test-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

/** The id of a process that has ended (a child run to completion). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('sweepAbandonedClusters', () => {
  it('removes the directories of ended owners and old unowned ones, keeps live and young ones and other prefixes', () => {
    const make = (name: string, owner?: number, ageMs = 0): string => {
      const dir = join(parent, name);
      mkdirSync(join(dir, 'data'), { recursive: true });
      if (owner !== undefined) writeFileSync(join(dir, 'owner'), `${owner}\n`);
      if (ageMs > 0) {
        const t = (Date.now() - ageMs) / 1000;
        utimesSync(dir, t, t);
      }
      return dir;
    };
    const dead = make('pgx-dead', deadPid());
    const live = make('pgx-live', process.pid);
    const young = make('pgx-young');
    const old = make('pgx-old', undefined, 60 * 60_000);
    const other = make('other-dead', deadPid());
    const removed = sweepAbandonedClusters('/nonexistent-bin', 'pgx-', parent);
    expect(removed.sort()).toEqual([dead, old].sort());
    expect([dead, live, young, old, other].map(existsSync)).toEqual([false, true, true, false, true]);
  });
});
