import type { KeyScope, KeyStore, StoredKey } from '../../app/ports.js';
import type { Dialect } from './dialect.js';
import type { AccessKeyRow } from './schema.js';

const toKey = (r: AccessKeyRow): StoredKey => ({
  id: r.id,
  name: r.name,
  scopes: r.scopes === '' ? [] : (r.scopes.split(',') as KeyScope[]),
  hash: r.key_hash,
  prefix: r.prefix ?? undefined,
  createdTs: Number(r.created_ts),
  revokedTs: r.revoked_ts === null ? undefined : Number(r.revoked_ts),
});

/** API keys (migration 0018's access_keys). */
export function keyStore(d: Dialect): KeyStore {
  return {
    async listKeys() {
      const rows = await d.db.selectFrom('access_keys').selectAll().orderBy('created_ts').orderBy('id').execute();
      return rows.map(toKey);
    },
    async insertKey(k) {
      // No conflict target: a taken id and a taken hash both leave the table as it was.
      const r = await d.db
        .insertInto('access_keys')
        .values({
          id: k.id,
          name: k.name,
          scopes: k.scopes.join(','),
          key_hash: k.hash,
          prefix: k.prefix ?? null,
          created_ts: k.createdTs,
          revoked_ts: k.revokedTs ?? null,
        })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async revokeKey(id, ts) {
      await d.db.updateTable('access_keys').set({ revoked_ts: ts }).where('id', '=', id).where('revoked_ts', 'is', null).execute();
      const r = await d.db.selectFrom('access_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return r && toKey(r);
    },
  };
}
