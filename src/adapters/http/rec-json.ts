import type { RecommendationItem, RecommendationResponse } from '../../api/types.js';
import { isPlainJsonString } from '../../core/kernel/strings.js';

/** Articles whose escaped item prefix is kept (the newsroom's recent catalog fits many times over). */
const MAX_CACHED = 50_000;

interface Prefix {
  title: string;
  url: string | null;
  json: string;
}

const NON_ASCII = /[\u0080-\uffff]/g;
const HAS_NON_ASCII = /[\u0080-\uffff]/;
const part = (s: string | null) => (s === null ? '-|' : `${s.length}:${s}|`);
const uEscape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * JSON text of `v` in ASCII only: JSON.stringify's, with every character above U+007F written as a
 * \uXXXX escape (UTF-16 units, so astral characters as surrogate pairs), like Python's json.dumps
 * with ensure_ascii. It parses to the same value.
 */
export function asciiJson(v: string | number | boolean | null): string {
  // Most strings here (ids, names) are printable ASCII without a quote or backslash: quoted as they are.
  if (typeof v === 'string' && isPlainJsonString(v)) return `"${v}"`;
  const json = JSON.stringify(v);
  return HAS_NON_ASCII.test(json) ? json.replace(NON_ASCII, uEscape) : json;
}

/**
 * Writes a read-next response as ASCII-only JSON: JSON.stringify's text for the response schema's
 * key order, with non-ASCII characters escaped (asciiJson; tested against both). Why ASCII: one
 * title with a character beyond Latin-1 (a typographic ellipsis, an Arabic or CJK headline) made
 * the whole response a two-byte string in V8, and measuring and encoding it for the socket
 * (Buffer.byteLength, then the write) took 5.2-5.4 us against 2.2-2.8 us for the ASCII text of the
 * same response (micro-benchmark, 2026-12-04): about 5% of a request. Non-Latin headlines take
 * more bytes on the wire (6 per character instead of 2-3); the parsed value is the same.
 *
 * The JSON of each item up to its position (`{"articleId":…,"title":…,"url":…,"position":`) is
 * escaped once per article version and reused, and so is each reason: escaping the titles took
 * more CPU than choosing the items.
 */
export class RecResponseEncoder {
  private readonly prefixes = new Map<string, Prefix>();
  private readonly tails = new Map<string, string>();
  private readonly heads = new Map<string, string>();

  encode(r: RecommendationResponse): string {
    let out = `{"recommId":${asciiJson(r.recommId)},${this.head(r)}`;
    for (let i = 0; i < r.items.length; i++) {
      const it = r.items[i]!;
      if (i > 0) out += ',';
      out += this.prefix(it) + String(it.position) + this.tail(it);
    }
    return `${out}]}`;
  }

  /** `"placement":…,"experiment":…,…,"items":[`: the same for most responses, so written once per combination. */
  private head(r: RecommendationResponse): string {
    // Unambiguous: strings length-prefixed, null as "-".
    const key = `${part(r.placement)}${part(r.experiment)}${r.phase ?? '-'}|${part(r.arm)}${r.hashVersion ?? '-'}|${part(r.recommender.kind)}${part(r.recommender.version)}${r.fallback}`;
    let json = this.heads.get(key);
    if (json === undefined) {
      json =
        `"placement":${asciiJson(r.placement)},"experiment":${asciiJson(r.experiment)},"phase":${asciiJson(r.phase)},"arm":${asciiJson(r.arm)},` +
        `"hashVersion":${asciiJson(r.hashVersion)},"recommender":{"kind":${asciiJson(r.recommender.kind)},"version":${asciiJson(r.recommender.version)}},` +
        `"fallback":${r.fallback},"items":[`;
      if (this.heads.size >= 1000) this.heads.clear();
      this.heads.set(key, json);
    }
    return json;
  }

  /** `{"articleId":…,"title":…,"url":…,"position":` */
  private prefix(it: RecommendationItem): string {
    const hit = this.prefixes.get(it.articleId);
    if (hit !== undefined && hit.title === it.title && hit.url === it.url) return hit.json;
    const json = `{"articleId":${asciiJson(it.articleId)},"title":${asciiJson(it.title)},"url":${asciiJson(it.url)},"position":`;
    if (this.prefixes.size >= MAX_CACHED) this.prefixes.clear();
    this.prefixes.set(it.articleId, { title: it.title, url: it.url, json });
    return json;
  }

  /** `,"reason":…[,"team":…]}` */
  private tail(it: RecommendationItem): string {
    const key = it.team === undefined ? it.reason : `${it.reason}\u0000${it.team}`;
    let json = this.tails.get(key);
    if (json === undefined) {
      json = `,"reason":${asciiJson(it.reason)}${it.team === undefined ? '' : `,"team":${asciiJson(it.team)}`}}`;
      if (this.tails.size >= 1000) this.tails.clear();
      this.tails.set(key, json);
    }
    return json;
  }
}
