import type { RecItem, RecResponse } from '../../app/serving.js';

/** Articles whose encoded item prefix is kept (the newsroom's recent catalog fits many times over). */
const MAX_CACHED = 50_000;

interface Prefix {
  title: string;
  url: string | null;
  bytes: Buffer;
}

/**
 * Encodes a read-next response as UTF-8 JSON, byte for byte what JSON.stringify gives for the
 * response schema's key order (tested against it). The JSON of each item up to its position
 * (`{"articleId":…,"title":…,"url":…,"position":`) is encoded once per article version and reused:
 * escaping and encoding the titles took more CPU than choosing the items. Sending a Buffer also
 * spares Fastify a second pass over the string to measure it.
 */
export class RecResponseEncoder {
  private readonly prefixes = new Map<string, Prefix>();
  private readonly small = new Map<string, Buffer>();

  encode(r: RecResponse): Buffer {
    const parts: Buffer[] = [
      Buffer.from(
        `{"recommId":${JSON.stringify(r.recommId)},"placement":${JSON.stringify(r.placement)},"experiment":${JSON.stringify(r.experiment)},` +
          `"phase":${JSON.stringify(r.phase)},"arm":${JSON.stringify(r.arm)},"hashVersion":${JSON.stringify(r.hashVersion)},` +
          `"recommender":{"kind":${JSON.stringify(r.recommender.kind)},"version":${JSON.stringify(r.recommender.version)}},"fallback":${r.fallback},"items":[`,
      ),
    ];
    for (let i = 0; i < r.items.length; i++) {
      const it = r.items[i]!;
      parts.push(this.prefix(it, i > 0), this.constant(String(it.position)), this.constant(`,"reason":${JSON.stringify(it.reason)}${it.team === undefined ? '' : `,"team":${JSON.stringify(it.team)}`}}`));
    }
    parts.push(this.constant(']}'));
    return Buffer.concat(parts);
  }

  /** `[,]{"articleId":…,"title":…,"url":…,"position":` */
  private prefix(it: RecItem, comma: boolean): Buffer {
    const key = comma ? `,${it.articleId}` : it.articleId;
    const hit = this.prefixes.get(key);
    if (hit !== undefined && hit.title === it.title && hit.url === it.url) return hit.bytes;
    const bytes = Buffer.from(`${comma ? ',' : ''}{"articleId":${JSON.stringify(it.articleId)},"title":${JSON.stringify(it.title)},"url":${JSON.stringify(it.url)},"position":`);
    if (this.prefixes.size >= MAX_CACHED) this.prefixes.clear();
    this.prefixes.set(key, { title: it.title, url: it.url, bytes });
    return bytes;
  }

  private constant(s: string): Buffer {
    let b = this.small.get(s);
    if (b === undefined) {
      if (this.small.size >= 1000) this.small.clear();
      this.small.set(s, (b = Buffer.from(s)));
    }
    return b;
  }
}
