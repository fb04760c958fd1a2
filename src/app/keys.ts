import type { Clock } from '../core/kernel/clock.js';
import type { KeyRole, KeyStore, Secrets } from './ports.js';

export interface KeyState {
  role: KeyRole;
  /** Set when this process generated the key now: print it once, it is never shown again. */
  generated: string | undefined;
  /** Where the key comes from, for the startup log. */
  source: 'environment' | 'database' | 'generated';
}

/**
 * API keys (admin, ingest). A key set in the environment wins. Otherwise the first process on a
 * database generates one and stores only its hash, so every process sharing that database accepts
 * the same key; a process that loses the race to store it uses the stored one.
 */
export class ApiKeys {
  private hashes = new Map<KeyRole, string>();

  constructor(
    private readonly store: KeyStore,
    private readonly secrets: Secrets,
    private readonly clock: Clock,
  ) {}

  async init(role: KeyRole, fromEnvironment: string | undefined): Promise<KeyState> {
    if (fromEnvironment) {
      this.hashes.set(role, this.secrets.hash(fromEnvironment));
      return { role, generated: undefined, source: 'environment' };
    }
    const existing = await this.store.getKeyHash(role);
    if (existing) {
      this.hashes.set(role, existing);
      return { role, generated: undefined, source: 'database' };
    }
    const key = this.secrets.newKey();
    const ours = this.secrets.hash(key);
    const standing = await this.store.putKeyHashIfAbsent(role, ours, this.clock.now());
    this.hashes.set(role, standing);
    return standing === ours ? { role, generated: key, source: 'generated' } : { role, generated: undefined, source: 'database' };
  }

  /** True when `presented` is the key of `role`. Unknown roles and empty keys never match. */
  check(role: KeyRole, presented: string | undefined): boolean {
    const want = this.hashes.get(role);
    if (!want || !presented) return false;
    return this.secrets.sameHash(this.secrets.hash(presented), want);
  }
}
