import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/adapters/storage/open.js';
import { BACKENDS, tempDir } from '../helpers/databases.js';
import { read } from '../helpers/events.js';
import { spawnServer } from '../helpers/process.js';

const postEvents = (url: string, events: unknown[], headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ events }),
  });

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('readnext serve (a real process)', () => {
  it('generates the admin and ingest keys on first start, prints them once, and a second process accepts them', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const db = `sqlite:${join(dir.path, 'keys.db')}`;
    const noKeys = { READNEXT_ADMIN_KEY: '', READNEXT_INGEST_KEY: '' };
    const first = await spawnServer(['--db', db], noKeys);
    await first.kill();
    const adminKey = /generated the admin key[^:]*: (\S+)/.exec(first.stderr())?.[1];
    const ingestKey = /generated the ingest key[^:]*: (\S+)/.exec(first.stderr())?.[1];
    expect(adminKey).toBeDefined();
    expect(ingestKey).toBeDefined();

    const second = await spawnServer(['--db', db], noKeys);
    try {
      expect(second.stderr()).not.toContain('generated');
      const ok = await fetch(`${second.url}/v1/admin/articles`, { headers: { authorization: `Bearer ${adminKey}` } });
      expect(ok.status).toBe(200);
      // The ingest key is valid but has the scope ingest only: 403 naming the scope read.
      const bad = await fetch(`${second.url}/v1/admin/articles`, { headers: { authorization: `Bearer ${ingestKey}` } });
      expect(bad.status).toBe(403);
      expect(((await bad.json()) as { error: { code: string; message: string } }).error).toMatchObject({
        code: 'missing_scope',
        message: expect.stringMatching(/scope read/),
      });
    } finally {
      await second.kill();
    }
  });

  // An acknowledged event must survive SIGKILL: the reply is sent only after the commit.
  for (const backend of BACKENDS) {
    it.skipIf(!backend.enabled)(`keeps every acknowledged event when killed with SIGKILL (${backend.name})`, async () => {
      const { url: db, cleanup } = await backend.create();
      cleanups.push(cleanup);
      const server = await spawnServer(['--db', db], {
        READNEXT_ADMIN_KEY: 'kill-test-admin-key-0123456',
        READNEXT_INGEST_KEY: 'kill-test-ingest-key-012345',
      });
      const acked: string[] = [];
      let stop = false;
      // Keep 8 writers busy, then kill the process mid-stream without warning.
      const writers = Array.from({ length: 8 }, async () => {
        while (!stop) {
          const events = Array.from({ length: 50 }, () => read(Date.now()));
          try {
            const res = await postEvents(server.url, events);
            if (res.status !== 200) continue;
            const body = (await res.json()) as { results: { eventId: string; status: string }[] };
            for (const r of body.results) if (r.status === 'accepted') acked.push(r.eventId);
          } catch {
            return; // the connection died with the process
          }
        }
      });
      await new Promise((r) => setTimeout(r, 1500));
      await server.kill('SIGKILL');
      stop = true;
      await Promise.all(writers);
      expect(acked.length).toBeGreaterThan(100);
      const storage = await openStorage(db);
      try {
        const stored = await storage.getEvents(acked);
        expect(stored.length).toBe(acked.length);
      } finally {
        await storage.close();
      }
    });
  }
});
