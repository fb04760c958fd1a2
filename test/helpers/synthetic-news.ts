/**
 * Seeded stand-ins for the real news data of ../shared/data (which is never committed): items in the
 * shape of Wikipedia's "Portal:Current events" dump (wikipedia-current-events/items.jsonl), with the
 * features the importer has to cope with in the real file, so the tests that used to need that file
 * run in every clone. Same seed, same items.
 *
 * What is reproduced from the real file (10,588 items, 2025-01-01 .. 2026-08-22):
 * - ids `YYYY-MM-DD-NNN` numbered from 001 within each day, 4 to 46 items a day (default span 599 days);
 * - the 10 categories at their real shares, and `category_raw` with the occasional variant spelling
 *   ("Law and Crime", "Business and econony");
 * - 0 to 6 `topics` (a quarter of items have none, so the title comes from the text), some longer
 *   than the 120-character title limit, and the odd generic one ("Other");
 * - `text` of 1 to 3 sentences with abbreviations and initials ("U.S.", "Gen.", "J. R. Okafor"),
 *   non-ASCII letters and dashes, first sentences beyond 120 characters;
 * - 0 to 5 `wiki_links`, 0 to 4 `sources` ({name, url}), `file`, `last_modified_at` ("YYYY-MM-DD HH:MM",
 *   after the item's day).
 * Names of people and places are invented; the categories, headline templates and names come from
 * src/core/simulate/synthetic.ts (NEWS_SECTIONS, NEWS_VOCABULARY), the file-format quirks from here.
 */
import { seededRng, type Rng } from '../../src/core/kernel/rng.js';
import { fillTemplate, NEWS_SECTIONS, NEWS_VOCABULARY, pickWeighted } from '../../src/core/simulate/synthetic.js';

export interface WikipediaItem {
  id: string;
  date: string;
  category: string;
  category_raw: string;
  topics: string[];
  text: string;
  wiki_links: string[];
  sources: { name: string; url: string }[];
  file: string;
  last_modified_at: string;
}

export interface SyntheticNewsOptions {
  seed: number;
  /** First day, YYYY-MM-DD. */
  start: string;
  days: number;
  /** Items a day are drawn uniformly from [min, max]. */
  perDay: readonly [number, number];
}

/** The real file's span and density: 599 days from 2025-01-01, 4-31 items a day (mean ~17.5). */
export const SYNTHETIC_NEWS_DEFAULTS: SyntheticNewsOptions = { seed: 20250101, start: '2025-01-01', days: 599, perDay: [4, 31] };

const VARIANT_SPELLINGS: Record<string, string> = {
  'Law and crime': 'Law and Crime',
  'Armed conflicts and attacks': 'Attacks and armed conflicts',
  'Science and technology': 'Science and Technology',
  'Business and economy': 'Business and econony',
  'Disasters and accidents': 'Disaster and accidents',
};
const OUTLETS = ['Reuters', 'AP', 'Al Jazeera', 'BBC News', 'DW', 'The Guardian', 'CNN', 'AFP via France 24', 'Xinhua', 'NBC News'];
const { places: PLACES, stories: STORIES } = NEWS_VOCABULARY;
const CATEGORY_NAMES = NEWS_SECTIONS.map((s) => s.name);
const CATEGORY_WEIGHTS = NEWS_SECTIONS.map((s) => s.weight);
const HEADLINES = new Map(NEWS_SECTIONS.map((s) => [s.name, s.headlines]));

const FOLLOW_UPS = [
  'Officials say the toll is expected to rise.',
  'The government of {place} declares {m} days of national mourning.',
  '{person} calls the decision "a turning point".',
  'It is the first such event in {place} since 19{k}{m}.',
  'Approx. {n} people gather in the capital in response.',
  'Reports by the U.K. and the U.S. differ on the figures.',
];
const GENERIC = ['Other', 'Update'];

/** Deterministic Wikipedia current-events items (see the module comment). */
export function syntheticWikipediaItems(options: Partial<SyntheticNewsOptions> = {}): WikipediaItem[] {
  const o = { ...SYNTHETIC_NEWS_DEFAULTS, ...options };
  const rng = seededRng(o.seed);
  const day0 = Date.parse(`${o.start}T00:00:00Z`);
  const items: WikipediaItem[] = [];
  for (let d = 0; d < o.days; d++) {
    const date = new Date(day0 + d * 86_400_000).toISOString().slice(0, 10);
    const count = o.perDay[0] + rng.int(o.perDay[1] - o.perDay[0] + 1);
    for (let i = 1; i <= count; i++) items.push(item(rng, date, i));
  }
  return items;
}

/** The items as the JSON lines of items.jsonl. */
export const toJsonLines = (items: readonly WikipediaItem[]): string => `${items.map((x) => JSON.stringify(x)).join('\n')}\n`;

function item(rng: Rng, date: string, i: number): WikipediaItem {
  const category = pickWeighted(rng, CATEGORY_NAMES, CATEGORY_WEIGHTS);
  const variant = VARIANT_SPELLINGS[category];
  const categoryRaw = variant !== undefined && rng.next() < 0.01 ? variant : category;
  const fill = (template: string): string => fillTemplate(rng, template);
  let first = fill(rng.pick(HEADLINES.get(category)!));
  // One item in ten has a long first sentence (the title is clipped at 120 characters when used).
  if (rng.next() < 0.1)
    first += `, according to a statement released late on ${date} by ${fill('{body}')} and reported by several agencies in ${fill('{place}')}`;
  first = `${first[0]!.toUpperCase()}${first.slice(1)}.`;
  const sentences = [first];
  const extra = rng.int(3);
  for (let s = 0; s < extra; s++) sentences.push(fill(rng.pick(FOLLOW_UPS)));

  const topics: string[] = [];
  const r = rng.next();
  const topicCount = r < 0.24 ? 0 : r < 0.69 ? 1 : r < 0.89 ? 2 : r < 0.97 ? 3 : 4 + rng.int(3);
  for (let t = 0; t < topicCount; t++) topics.push(rng.pick(STORIES));
  if (topicCount > 0 && rng.next() < 0.02) topics.push(rng.pick(GENERIC));
  if (topicCount > 0 && rng.next() < 0.005)
    topics.push(
      `Timeline of the ${rng.pick(STORIES)} and of the international response to it, including the negotiations held in ${rng.pick(PLACES)} and ${rng.pick(PLACES)}`,
    );

  const links = Array.from({ length: rng.int(6) }, () => rng.pick([...PLACES, ...STORIES]));
  const sr = rng.next();
  const sourceCount = sr < 0.003 ? 0 : sr < 0.78 ? 1 : sr < 0.97 ? 2 : 3 + rng.int(2);
  const sources = Array.from({ length: sourceCount }, (_, s) => {
    const name = rng.pick(OUTLETS);
    return {
      name,
      url: `https://${name.toLowerCase().replace(/[^a-z0-9]+/g, '')}.example.com/${date.replaceAll('-', '/')}/story-${i}-${s}`,
    };
  });
  const modified = new Date(Date.parse(`${date}T00:00:00Z`) + (1 + rng.int(400)) * 86_400_000 + rng.int(1440) * 60_000).toISOString();
  return {
    id: `${date}-${String(i).padStart(3, '0')}`,
    date,
    category,
    category_raw: categoryRaw,
    topics,
    text: sentences.join(' '),
    wiki_links: [...new Set(links)],
    sources,
    file: `${date}-index.md`,
    last_modified_at: `${modified.slice(0, 10)} ${modified.slice(11, 16)}`,
  };
}
