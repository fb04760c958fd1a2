/**
 * Text that reaches storage must be well-formed Unicode without NUL: PostgreSQL rejects NUL in
 * text, and a lone surrogate cannot be encoded as UTF-8. Returns a reason, or undefined if clean.
 */
export function badTextReason(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character';
  if (!s.isWellFormed()) return 'contains a lone UTF-16 surrogate';
  return undefined;
}

/** Whether any string in a parsed JSON value (keys included) is bad: the fast pass, without paths. */
function hasBadText(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000') || !value.isWellFormed();
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (hasBadText(value[i])) return true;
    return false;
  }
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    if (hasBadText(k) || hasBadText((value as Record<string, unknown>)[k])) return true;
  }
  return false;
}

/**
 * Walks a parsed JSON value and returns the path and reason of the first bad string (keys
 * included), or undefined. Clean values (nearly all) take one pass that builds no path strings;
 * only a bad one is walked again for its path.
 */
export function findBadText(value: unknown): { path: string; reason: string } | undefined {
  return hasBadText(value) ? locateBadText(value, '') : undefined;
}

function locateBadText(value: unknown, path: string): { path: string; reason: string } | undefined {
  if (typeof value === 'string') {
    const reason = badTextReason(value);
    return reason === undefined ? undefined : { path, reason };
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const r = locateBadText(value[i], `${path}/${i}`);
      if (r) return r;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const kr = badTextReason(k);
      if (kr) return { path: `${path}/${k}`, reason: `key ${kr}` };
      const r = locateBadText(v, `${path}/${k}`);
      if (r) return r;
    }
  }
  return undefined;
}

/**
 * The engine's canonical copy of `s`: V8 internalizes property keys, and two internalized strings
 * are equal only if they are the same object, so comparing canonical strings (`===`,
 * `Array.prototype.includes`) is a pointer comparison instead of a character walk. A performance
 * detail only: the value is always equal to `s` (array-index strings like "12" are returned as
 * they come, equal but not canonical).
 */
export function canonical(s: string): string {
  return Object.keys({ [s]: 0 })[0]!;
}

/**
 * Whether JSON writes `s` between quotes unchanged: printable ASCII (U+0020-U+007E) without `"`
 * or `\`. Ids and names nearly always are; checking is cheaper than JSON.stringify or a cache lookup.
 */
export function isPlainJsonString(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}
