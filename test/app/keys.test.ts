import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type OpenedStorage } from '../../src/adapters/storage/open.js';
import { kyselyOf } from '../../src/adapters/storage/testing.js';
import { ApiKeys, grants, parseScopes } from '../../src/app/keys.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { nodeSecrets } from '../../src/main/services.js';
import { BACKENDS } from '../helpers/databases.js';

const T = Date.parse('2026-03-01T12:00:00Z');

describe('scopes', () => {
  it('admin grants every scope; the others only themselves', () => {
    expect(grants(['admin'], 'ingest')).toBe(true);
    expect(grants(['read'], 'read')).toBe(true);
    expect(grants(['read'], 'write')).toBe(false);
    expect(grants(['write'], 'read')).toBe(false);
    expect(grants(['ingest'], 'admin')).toBe(false);
  });

  it('parses a list or a comma-separated string, in canonical order, and names the field of a bad one', () => {
    expect(parseScopes('write, read')).toEqual(['read', 'write']);
    expect(parseScopes(['ingest', 'admin'])).toEqual(['admin', 'ingest']);
    expect(() => parseScopes('read,root')).toThrow(/unknown scope "root"/);
    expect(() => parseScopes('')).toThrow(/unknown scope ""/);
    expect(() => parseScopes([])).toThrow(/non-empty list/);
    expect(() => parseScopes(7)).toThrow(expect.objectContaining({ code: 'invalid_field', field: 'scopes' }));
  });
});

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`API keys: ${backend.name}`, () => {
    let url: string;
    let cleanup: () => Promise<void>;
    let storage: OpenedStorage;
    beforeAll(async () => {
      ({ url, cleanup } = await backend.create());
      storage = await openStorage(url, { sqlite: { synchronous: 'NORMAL' } });
    });
    afterAll(async () => {
      await storage?.close();
      await cleanup?.();
    });

    it('generates the first-start keys once, stores only hashes, and accepts them with their scope', async () => {
      const clock = fixedClock(T);
      const a = new ApiKeys(storage, nodeSecrets, clock);
      const [admin, ingest] = [await a.init('admin', undefined), await a.init('ingest', undefined)];
      expect(admin).toMatchObject({ source: 'generated' });
      expect(ingest).toMatchObject({ source: 'generated' });
      // A second process on the same database finds them.
      const b = new ApiKeys(storage, nodeSecrets, clock);
      expect(await b.init('admin', undefined)).toEqual({ role: 'admin', generated: undefined, source: 'database' });
      expect(await b.authenticate(admin.generated)).toMatchObject({ id: 'admin', scopes: ['admin'] });
      expect(await b.authenticate(ingest.generated)).toMatchObject({ id: 'ingest', scopes: ['ingest'] });
      expect(await b.authenticate('rn_nope')).toBeUndefined();
      const rows = await kyselyOf(storage).selectFrom('access_keys').selectAll().execute();
      expect(rows.map((r) => r.key_hash).sort()).toEqual([nodeSecrets.hash(admin.generated!), nodeSecrets.hash(ingest.generated!)].sort());
      expect(JSON.stringify(rows)).not.toContain(admin.generated!);
      expect(rows.find((r) => r.id === 'admin')!.prefix).toBe(admin.generated!.slice(0, 8));
    });

    it('an environment key wins over the stored key of its role, and is never listed', async () => {
      const env = new ApiKeys(storage, nodeSecrets, fixedClock(T));
      expect(await env.init('admin', 'from-env')).toMatchObject({ source: 'environment' });
      expect(await env.authenticate('from-env')).toMatchObject({ id: 'env:admin', scopes: ['admin'] });
      const stored = (await env.list()).find((k) => k.id === 'admin')!;
      expect(stored.revokedTs).toBeUndefined();
      expect((await env.list()).map((k) => k.id)).not.toContain('env:admin');
    });

    it('creates, lists and revokes keys; a revocation reaches another process within the cache TTL', async () => {
      const real = fixedClock(0); // the cache's clock
      const here = new ApiKeys(storage, nodeSecrets, fixedClock(T + 10), { ttlMs: 1000, clock: real });
      const there = new ApiKeys(storage, nodeSecrets, fixedClock(T + 10), { ttlMs: 1000, clock: real });
      expect(await there.authenticate('rn_nope')).toBeUndefined(); // `there` reads the table now
      const { key, info } = await here.create('ci reader', 'read');
      expect(info).toMatchObject({ name: 'ci reader', scopes: ['read'], prefix: key.slice(0, 8), createdTs: T + 10, revokedTs: undefined });
      expect(key).toMatch(/^rn_/);
      expect(await here.authenticate(key)).toMatchObject({ id: info.id });
      expect(await there.authenticate(key)).toBeUndefined(); // a key made elsewhere, not yet seen ...
      real.advance(1000); // ... until the TTL has passed
      expect(await there.authenticate(key)).toMatchObject({ id: info.id, scopes: ['read'] });
      const listed = (await there.list()).find((k) => k.id === info.id)!;
      expect(listed).toEqual(info);
      expect(Object.keys(listed)).not.toContain('hash');

      expect(await here.revoke(info.id)).toMatchObject({ id: info.id, revokedTs: T + 10 });
      expect(await here.authenticate(key)).toBeUndefined(); // at once where it was revoked
      expect(await there.authenticate(key)).toBeDefined(); // elsewhere, still cached ...
      real.advance(1000);
      expect(await there.authenticate(key)).toBeUndefined(); // ... for at most the TTL
      expect(await there.revoke(info.id)).toMatchObject({ revokedTs: T + 10 }); // again: unchanged
      await expect(there.revoke('k_missing')).rejects.toMatchObject({ code: 'not_found', field: 'id' });
      await expect(here.create('', 'read')).rejects.toMatchObject({ code: 'invalid_field', field: 'name' });
      await expect(here.create('x', 'read,sudo')).rejects.toMatchObject({ code: 'invalid_field', field: 'scopes' });
    });

    it('refuses a stored key with 503 not_ready while the database does not answer; an environment key still works', async () => {
      const other = await openStorage(url, { sqlite: { synchronous: 'NORMAL' } });
      const keys = new ApiKeys(other, nodeSecrets, fixedClock(T), { ttlMs: 0 });
      await keys.init('admin', 'env-admin-key');
      const { key } = await keys.create('outage', 'read');
      await other.close();
      await expect(keys.authenticate(key)).rejects.toMatchObject({ code: 'not_ready' });
      expect(await keys.authenticate('env-admin-key')).toMatchObject({ id: 'env:admin' });
    });

    it('does not make a revoked first-start key again at the next start', async () => {
      const a = new ApiKeys(storage, nodeSecrets, fixedClock(T + 20));
      await a.revoke('ingest');
      expect(await a.init('ingest', undefined)).toEqual({ role: 'ingest', generated: undefined, source: 'database' });
      expect((await a.list()).find((k) => k.id === 'ingest')!.revokedTs).toBe(T + 20);
    });
  });

  describe.skipIf(!backend.enabled)(`migration 0018 (scoped keys): ${backend.name}`, () => {
    let url: string;
    let cleanup: () => Promise<void>;
    beforeAll(async () => ({ url, cleanup } = await backend.create()));
    afterAll(async () => cleanup?.());

    it('keeps the keys a database already holds: the admin key with scope admin, the ingest key with scope ingest', async () => {
      const old = await openStorage(url, { migrateTo: '0017_reader_erasures', sqlite: { synchronous: 'NORMAL' } });
      const db = kyselyOf(old) as unknown as import('kysely').Kysely<{ api_keys: { role: string; key_hash: string; created_ts: number } }>;
      await db
        .insertInto('api_keys')
        .values([
          { role: 'admin', key_hash: nodeSecrets.hash('old-admin'), created_ts: T - 2 },
          { role: 'ingest', key_hash: nodeSecrets.hash('old-ingest'), created_ts: T - 1 },
        ])
        .execute();
      await old.close();
      const storage = await openStorage(url, { sqlite: { synchronous: 'NORMAL' } });
      try {
        const keys = new ApiKeys(storage, nodeSecrets, fixedClock(T));
        // The next start finds them and generates nothing.
        expect(await keys.init('admin', undefined)).toMatchObject({ source: 'database' });
        expect(await keys.init('ingest', undefined)).toMatchObject({ source: 'database' });
        expect(await keys.authenticate('old-admin')).toMatchObject({ id: 'admin', scopes: ['admin'] });
        expect(await keys.authenticate('old-ingest')).toMatchObject({ id: 'ingest', scopes: ['ingest'] });
        expect(await keys.list()).toEqual([
          { id: 'admin', name: 'admin', scopes: ['admin'], prefix: undefined, createdTs: T - 2, revokedTs: undefined },
          { id: 'ingest', name: 'ingest', scopes: ['ingest'], prefix: undefined, createdTs: T - 1, revokedTs: undefined },
        ]);
      } finally {
        await storage.close();
      }
    });
  });
}
