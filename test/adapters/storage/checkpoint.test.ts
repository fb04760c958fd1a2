import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../../src/adapters/storage/open.js';
import type { StoredEvent } from '../../../src/core/events/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'readnext-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T = Date.parse('2026-03-01T12:00:00Z');
const read = (i: number) =>
  ({
    type: 'read',
    eventId: `ck-${i}`,
    readerId: `r${i % 50}`,
    sessionId: 's',
    clientTs: T + i,
    receivedTs: T + i,
    articleId: 'a',
    dwellMs: 1000,
    scroll: 0.5,
    recommId: null,
  }) as StoredEvent;

describe('SQLite background WAL checkpoints', () => {
  it('copies committed pages into the database file from a worker thread, and stops with close()', async () => {
    const path = join(dir, 'ck.db');
    const storage = await openStorage(`sqlite:${path}`, { sqlite: { synchronous: 'FULL', backgroundCheckpointMs: 20 } });
    const before = statSync(path).size;
    // ~250 WAL pages: under SQLite's default autocheckpoint (1000), so only the worker can move them.
    expect((await storage.appendEvents(Array.from({ length: 2000 }, (_, i) => read(i)))).every((o) => o === 'accepted')).toBe(true);
    // A passive checkpoint may copy the pages in several goes (the file grows in steps): wait for all of them.
    const deadline = Date.now() + 10_000;
    while (statSync(path).size <= before + 100_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(statSync(path).size).toBeGreaterThan(before + 100_000);
    expect(await storage.countEvents()).toBe(2000);
    await storage.close(); // returns: the worker is stopped
  });

  it('lets a process whose only work is awaiting close() finish it and exit 0', () => {
    // With the worker unref'ed, nothing else kept the event loop alive during close(): the process
    // exited with code 13 (unsettled top-level await) before the database was closed.
    const script = join(dir, 'close.mts');
    const open = pathToFileURL(resolve('src/adapters/storage/open.ts')).href;
    writeFileSync(
      script,
      `import { openStorage } from '${open}';
const s = await openStorage('sqlite:${join(dir, 'close.db')}', { sqlite: { synchronous: 'FULL', backgroundCheckpointMs: 20 } });
await s.close();
console.log('closed');
`,
    );
    const r = spawnSync(process.execPath, [resolve('bin/tsnode.mjs'), script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).not.toMatch(/unsettled/);
    expect(r.stdout.trim()).toBe('closed');
    expect(r.status).toBe(0);
  });
});
