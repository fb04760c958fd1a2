/** RoiStore (migration 0015) on SQLite, and on PostgreSQL when READNEXT_TEST_PG is set: revisions kept in order, per name, JSON intact. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedStorage } from '../../../src/adapters/storage/open.js';
import { BACKENDS, openBackend } from '../../helpers/databases.js';

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`roi revisions: ${backend.name}`, () => {
    let storage: OpenedStorage;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ storage, cleanup } = await openBackend(backend));
    });
    afterAll(async () => cleanup());

    it('stores revisions with increasing ids and lists them oldest first, per name or all', async () => {
      const doc = { parameters: { p: { dist: 'normal', mean: 1, sd: 0.5 } }, options: { a: '0', b: 'p' } };
      const a = await storage.addRoiRevision({ name: 'n1', createdTs: 1000, document: doc, sources: [], result: { best: 'b', evpi: 0.1 } });
      const b = await storage.addRoiRevision({ name: 'n2', createdTs: 2000, document: {}, sources: [{ parameter: 'p' }], result: {} });
      const c = await storage.addRoiRevision({
        name: 'n1',
        createdTs: 3000,
        document: doc,
        sources: [],
        result: { best: 'a', evpi: 0.05 },
      });
      expect(a < b && b < c).toBe(true);
      const n1 = await storage.listRoiRevisions('n1');
      expect(n1.map((r) => r.id)).toEqual([a, c]);
      expect(n1[0]).toEqual({ id: a, name: 'n1', createdTs: 1000, document: doc, sources: [], result: { best: 'b', evpi: 0.1 } });
      expect((await storage.listRoiRevisions()).map((r) => r.id)).toEqual([a, b, c]);
      expect(await storage.listRoiRevisions('none')).toEqual([]);
    });
  });
}
