import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { parseArticleJson, type ArticleParse } from '../../core/catalog/article.js';
import { detectFormat } from '../../core/catalog/formats/detect.js';
import { parseFeed } from '../../core/catalog/formats/feed.js';
import { parseMindLine } from '../../core/catalog/formats/mind.js';
import { parseWikipediaCurrentEventsItem } from '../../core/catalog/formats/wikipedia.js';
import { DomainError } from '../../core/kernel/errors.js';
import type { SourcedParse } from '../../app/catalog.js';
import { IMPORT_FORMATS, type ImportFormat } from './import-formats.js';

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** Reads a source (file or http(s) URL) as a stream of lines. */
async function lines(source: string): Promise<AsyncIterable<string>> {
  if (isUrl(source)) {
    const res = await fetchOk(source);
    if (!res.body) return (async function* () {})();
    return createInterface({ input: Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), crlfDelay: Infinity });
  }
  return createInterface({ input: createReadStream(source, 'utf8'), crlfDelay: Infinity });
}

async function fetchOk(url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/rss+xml, application/atom+xml, application/xml, text/xml, application/x-ndjson, */*' },
    });
  } catch (e) {
    throw new DomainError('import_failed', `cannot fetch ${url}: ${(e as Error).message}`, { field: 'source' });
  }
  if (!res.ok) throw new DomainError('import_failed', `cannot fetch ${url}: HTTP ${res.status}`, { field: 'source' });
  return res;
}

async function wholeText(source: string): Promise<string> {
  if (isUrl(source)) return (await fetchOk(source)).text();
  const { readFile } = await import('node:fs/promises');
  return readFile(source, 'utf8');
}

/** The first bytes of a source, to detect its format. */
async function head(source: string): Promise<string> {
  if (isUrl(source)) return (await wholeText(source)).slice(0, 4096);
  let fh;
  try {
    fh = await open(source, 'r');
  } catch (e) {
    throw new DomainError('invalid_field', `cannot read ${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      field: 'source',
    });
  }
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

export async function resolveFormat(source: string, format: ImportFormat | undefined): Promise<ImportFormat> {
  if (format) return format;
  const detected = detectFormat(await head(source), source);
  if (!detected)
    throw new DomainError('invalid_field', `cannot tell the format of ${source}; pass --format ${IMPORT_FORMATS.join('|')}`, {
      field: 'format',
    });
  return detected;
}

function jsonLine(line: string, parse: (v: unknown) => ArticleParse): ArticleParse {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return { ok: false, error: { field: '', reason: `invalid JSON: ${(e as Error).message}` } };
  }
  return parse(v);
}

/**
 * Parses a source into articles with their line numbers (item numbers for feeds). Blank lines
 * are skipped. `now` dates MIND rows, which carry no publication time.
 */
export async function* readArticles(source: string, format: ImportFormat, now: number): AsyncGenerator<SourcedParse> {
  if (format === 'rss') {
    const feed = parseFeed(await wholeText(source));
    for (const item of feed.items) yield { line: item.index + 1, result: item.result };
    return;
  }
  const parse: (line: string) => ArticleParse =
    format === 'jsonl'
      ? (l) => jsonLine(l, parseArticleJson)
      : format === 'wikipedia-current-events'
        ? (l) => jsonLine(l, parseWikipediaCurrentEventsItem)
        : (l) => parseMindLine(l, now);
  let n = 0;
  for await (const line of await lines(source)) {
    n++;
    if (line.trim() === '') continue;
    yield { line: n, result: parse(line) };
  }
}
