import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../../src/adapters/storage/open.js';
import { ApiKeys } from '../../../src/app/keys.js';
import { fixedClock } from '../../../src/core/kernel/clock.js';
import { nodeSecrets } from '../../../src/main/services.js';
import { runCliOn } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/databases.js';
import { T0 } from '../../helpers/events.js';

const dir = tempDir();
afterAll(() => dir.remove());
const db = `sqlite:${join(dir.path, 'keys.db')}`;
const clock = fixedClock(T0);

/** `readnext ARGS --db DB` in process. */
const cli = (...args: string[]) => runCliOn(db, clock, args);

/** What a server on the database makes of a key. */
async function authenticate(key: string) {
  const storage = await openStorage(db);
  try {
    return await new ApiKeys(storage, nodeSecrets, clock).authenticate(key);
  } finally {
    await storage.close();
  }
}

describe('readnext keys', () => {
  let key: string;
  let id: string;

  it('create prints the key once, then what it is; a server accepts it with its scopes', async () => {
    const r = await cli('keys', 'create', '--name', 'ci', '--scope', 'write,read');
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    key = r.out[0]!;
    expect(key).toMatch(/^rn_[\w-]{32}$/);
    id = /^key (k_[0-9a-f]{12}) \(ci\) with scopes read,write/.exec(r.out[1]!)![1]!;
    expect(await authenticate(key)).toMatchObject({ id, name: 'ci', scopes: ['read', 'write'] });
  });

  it('list shows id, name, scopes, prefix, created and revoked, never the key', async () => {
    const r = await cli('keys', 'list');
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe('id\tname\tscopes\tprefix\tcreated\trevoked');
    expect(r.out.slice(1)).toEqual([`${id}\tci\tread,write\t${key.slice(0, 8)}\t${new Date(T0).toISOString()}\t-`]);
    expect(r.out.join('\n')).not.toContain(key);
    const j = await cli('keys', 'list', '--json');
    expect(j.out.map((l) => JSON.parse(l))).toEqual([
      { id, name: 'ci', scopes: ['read', 'write'], prefix: key.slice(0, 8), createdTs: T0, revokedTs: null },
    ]);
  });

  it('revoke: the key is refused from then on, and listed as revoked', async () => {
    const r = await cli('keys', 'revoke', id);
    expect(r).toMatchObject({ code: 0, out: [`revoked key ${id} (ci) at ${new Date(T0).toISOString()}`] });
    expect(await authenticate(key)).toBeUndefined();
    expect((await cli('keys', 'list')).out[1]!.split('\t')[5]).toBe(new Date(T0).toISOString());
  });

  it('bad input: exit 2 with one line', async () => {
    for (const [args, line] of [
      [['keys', 'create', '--name', 'x', '--scope', 'read,root'], /unknown scope "root"/],
      [['keys', 'create', '--name', 'x'], /--scope/],
      [['keys', 'create', '--scope', 'read'], /--name/],
      [['keys', 'create', '--name', '', '--scope', 'read'], /name must be/],
      [['keys', 'revoke', 'k_missing'], /no key "k_missing"/],
    ] as const) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(line);
      expect(r.out).toEqual([]);
    }
  });
});
