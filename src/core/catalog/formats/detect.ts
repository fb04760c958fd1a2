/** Import formats the catalog understands. 'rss' covers Atom too: parseFeed tells them apart. */
export type ImportFormat = 'jsonl' | 'rss' | 'mind' | 'wikipedia-current-events';

/**
 * Guesses the import format from the start of a file (a few KB is plenty) and, for MIND, its
 * name. Returns undefined when nothing fits, so the caller can ask for an explicit format.
 * `firstBytes` may end mid-line.
 *
 * @example
 * detectFormat('<?xml version="1.0"?><rss version="2.0">') // 'rss'
 * detectFormat('N55528\tlifestyle\tlifestyleroyals\tThe Brands...', 'news.tsv') // 'mind'
 */
export function detectFormat(firstBytes: string, fileName?: string): ImportFormat | undefined {
  const text = firstBytes.replace(/^\uFEFF/, '');
  const start = text.trimStart();
  if (/^<(?:\?xml|rss\b|feed\b)/i.test(start)) return 'rss';

  const firstLine = text.split(/\r?\n/).find((l) => l.trim() !== '');
  if (firstLine === undefined) return undefined;
  const line = firstLine.trim();

  if (line.startsWith('{')) return isWikipediaItem(line) ? 'wikipedia-current-events' : 'jsonl';

  const isMindName = fileName !== undefined && /news\.tsv$/i.test(fileName);
  const columns = firstLine.split('\t');
  if (isMindName || (columns.length >= 6 && /^N\d+$/.test(columns[0] ?? ''))) return 'mind';
  return undefined;
}

/** A Wikipedia current-events item has `category`, `topics` and `text`; our own schema has none of them. */
function isWikipediaItem(line: string): boolean {
  const keys = ['category', 'topics', 'text'];
  try {
    const v: unknown = JSON.parse(line);
    return v !== null && typeof v === 'object' && !Array.isArray(v) && keys.every((k) => k in v);
  } catch {
    // The sample may end inside the first line: look for the keys themselves.
    return keys.every((k) => new RegExp(`"${k}"\\s*:`).test(line));
  }
}
