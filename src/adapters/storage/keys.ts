import type { KeyRole, KeyStore } from '../../app/ports.js';
import type { Dialect } from './dialect.js';

export function keyStore(d: Dialect): KeyStore {
  const getKeyHash = async (role: KeyRole): Promise<string | undefined> => {
    const r = await d.db.selectFrom('api_keys').select('key_hash').where('role', '=', role).executeTakeFirst();
    return r?.key_hash;
  };
  return {
    getKeyHash,
    async putKeyHashIfAbsent(role, hash, createdTs) {
      await d.db
        .insertInto('api_keys')
        .values({ role, key_hash: hash, created_ts: createdTs })
        .onConflict((oc) => oc.column('role').doNothing())
        .execute();
      return (await getKeyHash(role))!;
    },
  };
}
