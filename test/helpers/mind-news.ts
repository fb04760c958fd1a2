// A MIND-format news.tsv for the catalog importers' tests: six invented articles (example.com
// URLs, made-up places), with the quirks of the real format: an empty abstract, empty entity
// columns, a row without its entity columns, a row whose title entities are cut off (line 5), and
// non-ASCII text. Written at test time, never committed as a file: MIND's licence forbids shipping
// its data, and this keeps the repository free of MIND-like files (see test/helpers/mind-lab.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The rows, column by column (id, category, subcategory, title, abstract, url, title entities, abstract entities). */
const ROWS: string[][] = [
  [
    'N1001',
    'news',
    'newsworld',
    'Harbor city opens floating solar farm',
    'The Marlowe Bay project powers 4,000 homes, officials in Portvale said.',
    'https://example.com/mind/N1001.html',
    '[{"Label": "Solar power", "Type": "C", "WikidataId": "Q12000001", "Confidence": 1.0, "OccurrenceOffsets": [23], "SurfaceForms": ["Solar power"]}]',
    '[{"Label": "Portvale", "Type": "G", "WikidataId": "Q12000002", "Confidence": 1.0, "OccurrenceOffsets": [58], "SurfaceForms": ["Portvale"]}, {"Label": "Solar power", "Type": "C", "WikidataId": "Q12000001", "Confidence": 1.0, "OccurrenceOffsets": [4], "SurfaceForms": ["Solar power"]}]',
  ],
  ['N1002', 'sports', 'soccer', 'Late header sends Riverside into the cup final', '', 'https://example.com/mind/N1002.html', '[]', '[]'],
  [
    'N1003',
    'finance',
    'markets',
    'Grain prices steady after a volatile week',
    'Traders expect little movement before the harvest report.',
    'https://example.com/mind/N1003.html',
    '',
    '',
  ],
  [
    'N1004',
    'lifestyle',
    '',
    'Ten quiet trails for an autumn weekend',
    'A guide to lesser-known walks.',
    'https://example.com/mind/N1004.html',
  ],
  [
    'N1005',
    'health',
    'wellness',
    'Broken entity column',
    "This line's title entities are cut off.",
    'https://example.com/mind/N1005.html',
    '[{"Label": "Sleep", "Type": "C"',
    '[]',
  ],
  [
    'N1006',
    'travel',
    'traveleurope',
    'Zürich café culture, from Ämtler to Ōsaka-style kissaten ☕',
    'Crème brûlée, 東京 and the art of slow coffee.',
    'https://example.com/mind/N1006.html',
    '[{"Label": "Z\\u00fcrich", "Type": "G", "WikidataId": "Q12000003", "Confidence": 1.0, "OccurrenceOffsets": [0], "SurfaceForms": ["Z\\u00fcrich"]}]',
    '[{"Label": "Tokyo", "Type": "G", "WikidataId": "Q12000004", "Confidence": 1.0, "OccurrenceOffsets": [14], "SurfaceForms": ["Tokyo"]}]',
  ],
];

/** The file's text: one row per line, tab-separated, with a final newline. */
export const MIND_NEWS_TSV: string = ROWS.map((r) => r.join('\t')).join('\n') + '\n';

let path: string | undefined;

/** The text written once per test process as `mind_news.tsv` in a temporary directory; its path. */
export function mindNewsFile(): string {
  if (path === undefined) {
    path = join(mkdtempSync(join(tmpdir(), 'readnext-mind-news-')), 'mind_news.tsv');
    writeFileSync(path, MIND_NEWS_TSV);
  }
  return path;
}
