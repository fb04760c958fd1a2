import type { Clock } from '../core/kernel/clock.js';

/** What sessions need of cryptography (node:crypto in the HTTP adapter, routes/dashboard.ts). */
export interface SessionSecrets {
  /** A fresh unguessable token: 32 random bytes, base64url. */
  token(): string;
  /** A one-way digest: sessions are looked up by the cookie's digest, never by the cookie itself. */
  hash(text: string): string;
  /** Whether two strings are equal, in time that does not depend on where they differ. */
  same(a: string, b: string): boolean;
}

export interface Session {
  /** The synchronizer token a state-changing request made with the cookie must carry (x-csrf-token). */
  csrfToken: string;
  /**
   * The id of the API key signed in with (app/keys.ts): the session has that key's scopes, and ends
   * when the key is revoked (adapters/http/auth.ts requireScope). Undefined: a session of scope admin.
   */
  keyId?: string;
  /** Epoch ms; the session is gone from then on. */
  expiresAt: number;
}

export interface SessionLimits {
  /** How long a session lives from sign-in, ms (absolute, not sliding): the cookie's Max-Age. */
  ttlMs: number;
  /** Sessions held at most; signing in beyond that ends the oldest. */
  max: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { ttlMs: 8 * 60 * 60 * 1000, max: 1000 }; // 8 hours, 1,000 sessions

/**
 * The dashboard's sign-in sessions, in this process's memory (a restart signs everyone out; several
 * processes behind one address each hold their own). A session is the pair (cookie, CSRF token); the
 * admin key is never part of it. Every session has the same lifetime, so the map's insertion order is
 * also expiry order: purging walks from the front and stops at the first live one.
 *
 * @example
 * const s = new DashboardSessions(clock, secrets);
 * const { cookie, csrfToken } = s.create();
 * s.get(cookie)?.csrfToken === csrfToken; // true until clock.now() reaches expiresAt
 */
export class DashboardSessions {
  /** By the cookie's digest, oldest first. */
  private readonly live = new Map<string, Session>();

  constructor(
    private readonly clock: Clock,
    private readonly secrets: SessionSecrets,
    readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
  ) {}

  /** A new session, signed in with the key `keyId`: the cookie's value (to set, not to keep) and its CSRF token. */
  create(keyId?: string): { cookie: string; csrfToken: string; expiresAt: number } {
    this.purge();
    while (this.live.size >= this.limits.max) this.live.delete(this.live.keys().next().value!);
    const cookie = this.secrets.token();
    const session: Session = { csrfToken: this.secrets.token(), expiresAt: this.clock.now() + this.limits.ttlMs, keyId };
    this.live.set(this.secrets.hash(cookie), session);
    return { cookie, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
  }

  /** The live session of a cookie value, or undefined (unknown, ended or expired). */
  get(cookie: string | undefined): Session | undefined {
    if (!cookie) return undefined;
    const key = this.secrets.hash(cookie);
    const s = this.live.get(key);
    if (s && s.expiresAt <= this.clock.now()) {
      this.live.delete(key);
      return undefined;
    }
    return s;
  }

  /** Whether `presented` is the session's CSRF token (constant time). */
  csrfMatches(session: Session, presented: string | undefined): boolean {
    return presented !== undefined && presented !== '' && this.secrets.same(presented, session.csrfToken);
  }

  /** Ends a cookie's session; true when there was a live one. */
  end(cookie: string | undefined): boolean {
    if (!this.get(cookie)) return false;
    return this.live.delete(this.secrets.hash(cookie!));
  }

  /** Live sessions (after dropping the expired ones). */
  get size(): number {
    this.purge();
    return this.live.size;
  }

  private purge(): void {
    const now = this.clock.now();
    for (const [k, s] of this.live) {
      if (s.expiresAt > now) break;
      this.live.delete(k);
    }
  }
}

/**
 * A crude brake on guessing the admin key: at most `max` failed sign-ins per client address in a
 * fixed window of `windowMs` (default 10 per minute); then every sign-in from it, right or wrong,
 * is refused until the window ends. At most `maxClients` addresses are remembered: when full, the
 * finished windows are dropped, then the oldest.
 */
export class SignInLimiter {
  /** By client address, oldest window first. */
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly clock: Clock,
    readonly limits: { max: number; windowMs: number; maxClients: number } = { max: 10, windowMs: 60_000, maxClients: 10_000 },
  ) {}

  /** 0 when `client` may try; else how long it must wait, ms. */
  waitMs(client: string): number {
    const w = this.windows.get(client);
    if (!w) return 0;
    const end = w.start + this.limits.windowMs;
    const now = this.clock.now();
    if (now >= end) {
      this.windows.delete(client);
      return 0;
    }
    return w.failures >= this.limits.max ? end - now : 0;
  }

  /** Counts a failed sign-in. */
  fail(client: string): void {
    const now = this.clock.now();
    const w = this.windows.get(client);
    if (w && now < w.start + this.limits.windowMs) {
      w.failures++;
      return;
    }
    this.windows.delete(client);
    if (this.windows.size >= this.limits.maxClients) {
      for (const [k, v] of this.windows) if (now >= v.start + this.limits.windowMs) this.windows.delete(k);
      while (this.windows.size >= this.limits.maxClients) this.windows.delete(this.windows.keys().next().value!);
    }
    this.windows.set(client, { start: now, failures: 1 });
  }
}
