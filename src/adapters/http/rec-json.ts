import type { RecItem, RecResponse } from '../../app/serving.js';

/** Articles whose escaped item prefix is kept (the newsroom's recent catalog fits many times over). */
const MAX_CACHED = 50_000;

interface Prefix {
  title: string;
  url: string | null;
  json: string;
}

/**
 * Writes a read-next response as JSON, character for character what JSON.stringify gives for the
 * response schema's key order (tested against it). The JSON of each item up to its position
 * (`{"articleId":…,"title":…,"url":…,"position":`) is escaped once per article version and reused,
 * and so is each reason: escaping the titles took more CPU than choosing the items.
 */
export class RecResponseEncoder {
  private readonly prefixes = new Map<string, Prefix>();
  private readonly tails = new Map<string, string>();

  encode(r: RecResponse): string {
    let out =
      `{"recommId":${JSON.stringify(r.recommId)},"placement":${JSON.stringify(r.placement)},"experiment":${JSON.stringify(r.experiment)},` +
      `"phase":${JSON.stringify(r.phase)},"arm":${JSON.stringify(r.arm)},"hashVersion":${JSON.stringify(r.hashVersion)},` +
      `"recommender":{"kind":${JSON.stringify(r.recommender.kind)},"version":${JSON.stringify(r.recommender.version)}},"fallback":${r.fallback},"items":[`;
    for (let i = 0; i < r.items.length; i++) {
      const it = r.items[i]!;
      if (i > 0) out += ',';
      out += this.prefix(it) + String(it.position) + this.tail(it);
    }
    return `${out}]}`;
  }

  /** `{"articleId":…,"title":…,"url":…,"position":` */
  private prefix(it: RecItem): string {
    const hit = this.prefixes.get(it.articleId);
    if (hit !== undefined && hit.title === it.title && hit.url === it.url) return hit.json;
    const json = `{"articleId":${JSON.stringify(it.articleId)},"title":${JSON.stringify(it.title)},"url":${JSON.stringify(it.url)},"position":`;
    if (this.prefixes.size >= MAX_CACHED) this.prefixes.clear();
    this.prefixes.set(it.articleId, { title: it.title, url: it.url, json });
    return json;
  }

  /** `,"reason":…[,"team":…]}` */
  private tail(it: RecItem): string {
    const key = it.team === undefined ? it.reason : `${it.reason}\u0000${it.team}`;
    let json = this.tails.get(key);
    if (json === undefined) {
      json = `,"reason":${JSON.stringify(it.reason)}${it.team === undefined ? '' : `,"team":${JSON.stringify(it.team)}`}}`;
      if (this.tails.size >= 1000) this.tails.clear();
      this.tails.set(key, json);
    }
    return json;
  }
}
