import { badTextReason } from '../../kernel/strings.js';
import { toIso } from '../../kernel/time.js';
import { parseArticleJson, type ArticleParse } from '../article.js';

/**
 * MIND (Microsoft News Dataset) news.tsv: one article a line, 8 tab-separated columns and no
 * header. Entity columns hold JSON arrays of
 * `{"Label", "Type", "WikidataId", "Confidence", "OccurrenceOffsets", "SurfaceForms"}`.
 */
const COLUMNS = ['id', 'category', 'subcategory', 'title', 'abstract', 'url', 'title_entities', 'abstract_entities'] as const;
type Column = (typeof COLUMNS)[number];

/** Columns every line must have; later ones may be cut off (trailing empty fields get lost in exports). */
const MIN_COLUMNS = 4;

/** Article fields that come straight from one column, so article-level rejections name the column. */
const SOURCE_FIELD: Record<string, Column> = { id: 'id', section: 'category', title: 'title', lead: 'abstract', url: 'url' };

/**
 * Parses one line of MIND news.tsv. MIND carries no dates, so the caller chooses `publishedAt`
 * (epoch ms), e.g. spread over the impression log's time range.
 *
 * @example
 * parseMindLine('N1\tsports\tsoccer\tA title\t\t\t[]\t[]', Date.parse('2019-11-10T00:00:00Z'))
 */
export function parseMindLine(line: string, publishedAt: number): ArticleParse {
  if (!Number.isFinite(publishedAt)) throw new RangeError(`publishedAt must be a finite epoch ms, got ${publishedAt}`);
  const fail = (field: string, reason: string): ArticleParse => ({ ok: false, error: { field, reason } });

  // Tolerate CRLF files: the \r would otherwise end up in the last column.
  const cells = line.replace(/\r?\n?$/, '').split('\t');
  if (cells.length < MIN_COLUMNS) {
    return fail('line', `has ${cells.length} tab-separated column(s); expected ${COLUMNS.length} (at least ${MIN_COLUMNS})`);
  }
  if (cells.length > COLUMNS.length) {
    return fail('line', `has ${cells.length} tab-separated columns; expected at most ${COLUMNS.length}`);
  }
  const col = (c: Column): string => cells[COLUMNS.indexOf(c)]?.trim() ?? '';

  for (const c of COLUMNS) {
    const bad = badTextReason(col(c));
    if (bad) return fail(c, bad);
  }
  const id = col('id');
  const title = col('title');
  if (id === '') return fail('id', 'must not be empty');
  if (title === '') return fail('title', 'must not be empty');

  const titleLabels = entityLabels(col('title_entities'), 'title_entities');
  if (!Array.isArray(titleLabels)) return { ok: false, error: titleLabels };
  const abstractLabels = entityLabels(col('abstract_entities'), 'abstract_entities');
  if (!Array.isArray(abstractLabels)) return { ok: false, error: abstractLabels };

  const subcategory = col('subcategory');
  const tags = [...new Set([...(subcategory === '' ? [] : [subcategory]), ...titleLabels, ...abstractLabels])];
  const orNull = (s: string): string | null => (s === '' ? null : s);

  const parsed = parseArticleJson({
    id,
    title,
    lead: orNull(col('abstract')),
    url: orNull(col('url')),
    section: orNull(col('category')),
    tags,
    language: 'en',
    publishedAt: toIso(publishedAt),
  });
  if (parsed.ok) return parsed;
  const field = SOURCE_FIELD[parsed.error.field] ?? parsed.error.field;
  return fail(field, parsed.error.reason);
}

/** The entity labels of one entity column, in order; an empty column means no entities. */
function entityLabels(cell: string, field: Column): string[] | { field: string; reason: string } {
  if (cell === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(cell);
  } catch (e) {
    return { field, reason: `is not valid JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  if (!Array.isArray(value)) return { field, reason: 'must be a JSON array of entities' };
  const labels: string[] = [];
  for (const [i, entity] of value.entries()) {
    const label: unknown = entity !== null && typeof entity === 'object' ? (entity as Record<string, unknown>).Label : undefined;
    if (typeof label !== 'string') return { field: `${field}/${i}`, reason: 'entity must be an object with a string "Label"' };
    const trimmed = label.trim();
    if (trimmed !== '') labels.push(trimmed);
  }
  return labels;
}
