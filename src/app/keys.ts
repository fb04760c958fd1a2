import type { Clock } from '../core/kernel/clock.js';
import { DomainError } from '../core/kernel/errors.js';
import type { KeyScope, KeyStore, Secrets, StoredKey } from './ports.js';

export type { KeyScope } from './ports.js';

/** Every scope, in the order lists print them. */
export const KEY_SCOPES: readonly KeyScope[] = ['read', 'write', 'admin', 'ingest'];

/** The first-start keys: their ids are their roles, and each has the scope of the same name. */
export type KeyRole = 'admin' | 'ingest';

/** A key as lists show it: everything but its hash. */
export type KeyInfo = Omit<StoredKey, 'hash'>;

export interface KeyState {
  role: KeyRole;
  /** Set when this process generated the key now: print it once, it is never shown again. */
  generated: string | undefined;
  /** Where the key comes from, for the startup log. */
  source: 'environment' | 'database' | 'generated';
}

export interface KeyCacheOptions {
  /**
   * How long, ms, this process trusts its copy of the key table before reading it again: a key
   * revoked or created by another process (or `readnext keys`) takes effect here within this time.
   */
  ttlMs: number;
  /** The clock of that age: a real one even when the app runs on a simulated clock, which can stand still. */
  clock: Clock;
}

/** 1 second: the bound on how late a revocation made elsewhere takes effect. */
export const DEFAULT_KEY_TTL_MS = 1000;

/** Characters of a new key kept for recognition: `rn_` and 5 of its 32 random base64url characters (30 of 192 bits). */
const PREFIX_CHARS = 8;
const NAME = /^[\p{L}\p{N} ._:@/-]{1,100}$/u;

/** Whether `scopes` grant `need`: `admin` grants everything. */
export const grants = (scopes: readonly KeyScope[], need: KeyScope): boolean => scopes.includes(need) || scopes.includes('admin');

/** Parses `read,write` (CLI and API): 400/exit 2 with the field `scopes` for an empty list or an unknown scope. */
export function parseScopes(value: unknown, field = 'scopes'): KeyScope[] {
  // Items may hold commas too: Fastify's validator turns a string into a one-item list (coerceTypes 'array').
  const items: unknown[] | undefined = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined;
  const list = items?.flatMap((s) => (typeof s === 'string' ? s.split(',').map((p) => p.trim()) : [s]));
  if (!list || list.length === 0 || list.some((s) => typeof s !== 'string'))
    throw new DomainError('invalid_field', `${field} must be a non-empty list of ${KEY_SCOPES.join(', ')}`, { field });
  const bad = list.find((s) => !KEY_SCOPES.includes(s as KeyScope));
  if (bad !== undefined)
    throw new DomainError('invalid_field', `${field}: unknown scope ${JSON.stringify(bad)} (one of ${KEY_SCOPES.join(', ')})`, { field });
  return KEY_SCOPES.filter((s) => list.includes(s));
}

const info = ({ hash: _hash, ...rest }: StoredKey): KeyInfo => rest;

/**
 * API keys with scopes, stored hashed (KeyStore). Two are made at first start: `admin` (scope
 * admin) and `ingest` (scope ingest); the first process on a database generates each and stores only
 * its hash, so every process sharing that database accepts the same key, and a process that loses
 * the race uses the stored one. READNEXT_ADMIN_KEY / READNEXT_INGEST_KEY win: set, this process
 * accepts that key (held in memory only, never listed or revocable) in place of the stored key of
 * the same id. `readnext keys` and /v1/admin/keys create, list and revoke the others.
 *
 * Lookups read this process's copy of the whole table (keys are few), refreshed when older than
 * KeyCacheOptions.ttlMs; so a revocation made anywhere takes effect everywhere within that time
 * (test/app/keys.test.ts); while the database does not answer, a key it holds is refused with 503
 * not_ready (the environment's keys still work). Keys are found by their SHA-256: comparing digests of a 192-bit random
 * key in a map leaks nothing an attacker can use, so no constant-time comparison is needed.
 */
export class ApiKeys {
  /** Keys set in the environment, by hash. */
  private readonly fromEnvironment = new Map<string, KeyInfo>();
  /** Stored keys whose place an environment key took (their ids). */
  private readonly replaced = new Set<string>();
  private live: { byHash: Map<string, KeyInfo>; at: number } | undefined;
  private loading: Promise<Map<string, KeyInfo>> | undefined;
  private readonly cache: KeyCacheOptions;

  constructor(
    private readonly store: KeyStore,
    private readonly secrets: Secrets,
    private readonly clock: Clock,
    cache: Partial<KeyCacheOptions> = {},
  ) {
    this.cache = { ttlMs: cache.ttlMs ?? DEFAULT_KEY_TTL_MS, clock: cache.clock ?? clock };
  }

  async init(role: KeyRole, fromEnvironment: string | undefined): Promise<KeyState> {
    if (fromEnvironment) {
      const hash = this.secrets.hash(fromEnvironment);
      const envName = role === 'admin' ? 'READNEXT_ADMIN_KEY' : 'READNEXT_INGEST_KEY';
      this.fromEnvironment.set(hash, {
        id: `env:${role}`,
        name: envName,
        scopes: [role],
        prefix: undefined,
        createdTs: 0,
        revokedTs: undefined,
      });
      this.replaced.add(role);
      this.live = undefined;
      return { role, generated: undefined, source: 'environment' };
    }
    const key = this.secrets.newKey();
    const ours: StoredKey = {
      id: role,
      name: role,
      scopes: [role],
      hash: this.secrets.hash(key),
      prefix: key.slice(0, PREFIX_CHARS),
      createdTs: this.clock.now(),
      revokedTs: undefined,
    };
    // The id is the role: an existing key (revoked or not) keeps its place, so a revoked first-start key is not made again.
    const stored = await this.store.insertKey(ours);
    this.live = undefined;
    return stored ? { role, generated: key, source: 'generated' } : { role, generated: undefined, source: 'database' };
  }

  /** The live key `presented` is, or undefined (absent, unknown or revoked). */
  async authenticate(presented: string | undefined): Promise<KeyInfo | undefined> {
    if (!presented) return undefined;
    const hash = this.secrets.hash(presented);
    return this.fromEnvironment.get(hash) ?? (await this.current()).get(hash);
  }

  /** The live key of an id (a dashboard session's), or undefined once it is revoked; as fresh as authenticate. */
  async byId(id: string): Promise<KeyInfo | undefined> {
    for (const k of this.fromEnvironment.values()) if (k.id === id) return k;
    for (const k of (await this.current()).values()) if (k.id === id) return k;
    return undefined;
  }

  /** Creates a key: the key itself is in the answer only, never stored or shown again. */
  async create(name: unknown, scopes: unknown): Promise<{ key: string; info: KeyInfo }> {
    if (typeof name !== 'string' || !NAME.test(name))
      throw new DomainError('invalid_field', 'name must be 1 to 100 letters, digits, spaces or . _ : @ / -', { field: 'name' });
    const parsed = parseScopes(scopes);
    for (;;) {
      const key = this.secrets.newKey();
      const hash = this.secrets.hash(key);
      const k: StoredKey = {
        // Random, and unrelated to the key: ids are shown in lists.
        id: `k_${this.secrets.hash(this.secrets.newKey()).slice(0, 12)}`,
        name,
        scopes: parsed,
        hash,
        prefix: key.slice(0, PREFIX_CHARS),
        createdTs: this.clock.now(),
        revokedTs: undefined,
      };
      // A taken id (48 random bits) is astronomically rare: draw again.
      if (!(await this.store.insertKey(k))) continue;
      this.live?.byHash.set(hash, info(k));
      return { key, info: info(k) };
    }
  }

  /** Every stored key, revoked ones included, without hashes. */
  async list(): Promise<KeyInfo[]> {
    return (await this.store.listKeys()).map(info);
  }

  /** Revokes a key (404 not_found for an unknown id); revoking a revoked key changes nothing. */
  async revoke(id: string): Promise<KeyInfo> {
    const k = await this.store.revokeKey(id, this.clock.now());
    if (!k) throw new DomainError('not_found', `no key ${JSON.stringify(id)}`, { field: 'id' });
    this.live?.byHash.delete(k.hash);
    return info(k);
  }

  /** Live stored keys by hash, read again when older than the TTL (one read at a time). */
  private async current(): Promise<Map<string, KeyInfo>> {
    const now = this.cache.clock.now();
    if (this.live && now - this.live.at < this.cache.ttlMs) return this.live.byHash;
    this.loading ??= this.store
      .listKeys()
      .then((keys) => {
        const byHash = new Map<string, KeyInfo>();
        for (const k of keys) if (k.revokedTs === undefined && !this.replaced.has(k.id)) byHash.set(k.hash, info(k));
        this.live = { byHash, at: now };
        return byHash;
      })
      .catch((e: unknown) => {
        // Fail closed, as 503 (not 500): a key may have been revoked since the last read.
        throw new DomainError('not_ready', `cannot check the key: the database did not answer (${(e as Error).message})`, { cause: e });
      })
      .finally(() => (this.loading = undefined));
    return this.loading;
  }
}
