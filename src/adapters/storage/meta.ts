import type { MetaStore } from '../../app/ports.js';
import type { Dialect } from './dialect.js';

export function metaStore(d: Dialect): MetaStore {
  return {
    async getMeta(key) {
      const r = await d.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
      return r?.value;
    },
    async setMeta(key, value) {
      await d.db
        .insertInto('meta')
        .values({ key, value })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
        .execute();
    },
  };
}
