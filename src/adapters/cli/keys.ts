/**
 * `readnext keys create|list|revoke`: API keys with scopes (src/app/keys.ts) from the command line,
 * on the configured database or `--db`; the same as /v1/admin/keys. Servers on the database see a
 * new or revoked key within a second (DEFAULT_KEY_TTL_MS). Tests: test/adapters/cli/keys.test.ts.
 */
import type { Command } from 'commander';
import { KEY_SCOPES, type ApiKeys, type KeyInfo } from '../../app/keys.js';

export interface KeyCliDeps {
  out(line: string): void;
  /** The keys of the configured database unless `db` is given. */
  open(db: string | undefined): Promise<{ keys: Pick<ApiKeys, 'create' | 'list' | 'revoke'>; close(): Promise<void> }>;
}

const iso = (ts: number | undefined) => (ts === undefined ? '-' : new Date(ts).toISOString());
const json = (k: KeyInfo) => JSON.stringify({ ...k, prefix: k.prefix ?? null, revokedTs: k.revokedTs ?? null });

export function registerKeys(program: Command, deps: KeyCliDeps): void {
  const keys = program.command('keys').description('API keys with scopes (read, write, admin, ingest): create, list, revoke');
  const withKeys = async <T>(db: string | undefined, f: (k: Pick<ApiKeys, 'create' | 'list' | 'revoke'>) => Promise<T>) => {
    const s = await deps.open(db);
    try {
      return await f(s.keys);
    } finally {
      await s.close();
    }
  };
  keys
    .command('create')
    .description('create a key and print it, this once: only its hash is stored')
    .requiredOption('--name <name>', 'what the key is for (1 to 100 letters, digits, spaces or . _ : @ / -)')
    .requiredOption('--scope <scopes>', `comma-separated scopes: ${KEY_SCOPES.join(', ')} (admin implies the others)`)
    .option('--json', 'print the answer as JSON')
    .option('--db <url>', 'database URL')
    .action(async (o: { name: string; scope: string; json?: boolean; db?: string }) => {
      const { key, info } = await withKeys(o.db, (k) => k.create(o.name, o.scope));
      if (o.json) deps.out(JSON.stringify({ key, ...JSON.parse(json(info)) }));
      else {
        deps.out(key);
        deps.out(`key ${info.id} (${info.name}) with scopes ${info.scopes.join(',')}: store it now, it is never shown again`);
      }
    });
  keys
    .command('list')
    .description('every key: id, name, scopes, prefix, created, revoked (never a hash or a key)')
    .option('--json', 'print one JSON object per line')
    .option('--db <url>', 'database URL')
    .action(async (o: { json?: boolean; db?: string }) => {
      const list = await withKeys(o.db, (k) => k.list());
      if (o.json) return list.forEach((k) => deps.out(json(k)));
      deps.out(['id', 'name', 'scopes', 'prefix', 'created', 'revoked'].join('\t'));
      for (const k of list) deps.out([k.id, k.name, k.scopes.join(','), k.prefix ?? '-', iso(k.createdTs), iso(k.revokedTs)].join('\t'));
    });
  keys
    .command('revoke <id>')
    .description('revoke a key: servers on the database refuse it within a second')
    .option('--db <url>', 'database URL')
    .action(async (id: string, o: { db?: string }) => {
      const k = await withKeys(o.db, (keys) => keys.revoke(id));
      deps.out(`revoked key ${k.id} (${k.name}) at ${iso(k.revokedTs)}`);
    });
}
