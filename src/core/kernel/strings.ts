/**
 * Text that reaches storage must be well-formed Unicode without NUL: PostgreSQL rejects NUL in
 * text, and a lone surrogate cannot be encoded as UTF-8. Returns a reason, or undefined if clean.
 */
export function badTextReason(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character';
  if (!s.isWellFormed()) return 'contains a lone UTF-16 surrogate';
  return undefined;
}

/**
 * Walks a parsed JSON value and returns the path and reason of the first bad string (keys
 * included), or undefined.
 */
export function findBadText(value: unknown, path = ''): { path: string; reason: string } | undefined {
  if (typeof value === 'string') {
    const reason = badTextReason(value);
    return reason === undefined ? undefined : { path, reason };
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const r = findBadText(value[i], `${path}/${i}`);
      if (r) return r;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const kr = badTextReason(k);
      if (kr) return { path: `${path}/${k}`, reason: `key ${kr}` };
      const r = findBadText(v, `${path}/${k}`);
      if (r) return r;
    }
  }
  return undefined;
}
