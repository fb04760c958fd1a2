/**
 * MIND-format logs for the offline lab, parsed from text the adapter read: behaviors.tsv into
 * LabImpressions, news.tsv into Articles (through core/catalog/formats/mind.ts). Real logs are
 * messy, so a bad line is reported as `FILE:LINE: reason` and the good lines still load.
 * Tests: test/core/lab/mind.test.ts.
 */
import type { Article } from '../catalog/article.js';
import { parseMindLine } from '../catalog/formats/mind.js';
import { daysInMonth } from '../kernel/time.js';
import type { LabImpression } from './types.js';

/** A line that did not load (malformed, or a duplicate id): 1-based line number and why. */
export interface LineProblem {
  line: number;
  reason: string;
}

const TIME = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) (AM|PM)$/i;

/**
 * A behaviors.tsv time, `M/D/YYYY h:mm:ss AM|PM` (US order, 12-hour clock: 12:xx AM is 00:xx,
 * 12:xx PM is 12:xx), read as UTC (MIND does not say its zone; only order and spacing matter to
 * the lab). Epoch ms, or null when it is not such a time.
 *
 * @example
 * parseMindTime('11/15/2019 8:55:22 AM') // Date.UTC(2019, 10, 15, 8, 55, 22)
 */
export function parseMindTime(s: string): number | null {
  const m = TIME.exec(s.trim());
  if (!m) return null;
  const [month, day, year, hour12, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour12 < 1 || hour12 > 12 || minute > 59 || second > 59) return null;
  const hour = (hour12 % 12) + (m[7]!.toUpperCase() === 'PM' ? 12 : 0);
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** What one behaviors.tsv yields: impressions in file order, and the lines that did not load. */
export interface BehaviorsParse {
  impressions: LabImpression[];
  /** Malformed lines: not loaded. */
  rejected: LineProblem[];
  /** Lines whose impression id was already seen: not loaded (the first one is kept). */
  duplicates: LineProblem[];
}

const LABELLED = /^(.+)-(\d+)$/;

type LineParse = { ok: true; imp: LabImpression } | { ok: false; reason: string };

/**
 * One behaviors.tsv line: impression id, user id, time, history (space-separated ids, may be
 * empty), candidates (`N1-1 N2-0 ...`, or `N1 N2 ...` without labels in a test log).
 *
 * @example
 * parseBehaviorLine('7\tU1\t11/15/2019 8:55:22 AM\tN1 N2\tN3-1 N4-0')
 */
export function parseBehaviorLine(line: string): LineParse {
  const fail = (reason: string): LineParse => ({ ok: false, reason });
  const cells = line.replace(/\r$/, '').split('\t');
  if (cells.length !== 5) return fail(`has ${cells.length} tab-separated column(s); expected 5 (id, user, time, history, impressions)`);
  const [id, readerId, time, history, impressions] = cells.map((c) => c.trim()) as [string, string, string, string, string];
  if (id === '' || /\s/.test(id)) return fail('impression id must be one non-empty token');
  if (readerId === '' || /\s/.test(readerId)) return fail('user id must be one non-empty token');
  const ts = parseMindTime(time);
  if (ts === null) return fail(`time "${time}" is not M/D/YYYY h:mm:ss AM|PM`);
  const tokens = impressions.split(/\s+/).filter((t) => t !== '');
  if (tokens.length === 0) return fail('has no candidates');
  const candidates: { articleId: string; clicked: boolean | null }[] = [];
  let labelled = 0;
  for (const t of tokens) {
    const m = LABELLED.exec(t);
    if (m) {
      if (m[2] !== '0' && m[2] !== '1') return fail(`candidate "${t}": the label must be 0 or 1`);
      candidates.push({ articleId: m[1]!, clicked: m[2] === '1' });
      labelled++;
    } else {
      if (t.startsWith('-') || t.endsWith('-')) return fail(`candidate "${t}" is not ID or ID-LABEL`);
      candidates.push({ articleId: t, clicked: null });
    }
  }
  if (labelled !== 0 && labelled !== candidates.length) return fail('candidates mix labelled (ID-0/ID-1) and unlabelled ids');
  return {
    ok: true,
    imp: { id, readerId, ts, history: history.split(/\s+/).filter((h) => h !== ''), candidates },
  };
}

/** Every line of a behaviors.tsv; blank lines are skipped, duplicate impression ids keep the first. */
export function parseBehaviors(text: string): BehaviorsParse {
  const out: BehaviorsParse = { impressions: [], rejected: [], duplicates: [] };
  const firstLine = new Map<string, number>();
  lines(text, (line, n) => {
    const r = parseBehaviorLine(line);
    if (!r.ok) return void out.rejected.push({ line: n, reason: r.reason });
    const first = firstLine.get(r.imp.id);
    if (first !== undefined)
      return void out.duplicates.push({ line: n, reason: `duplicate impression id ${r.imp.id} (first on line ${first}); kept the first` });
    firstLine.set(r.imp.id, n);
    out.impressions.push(r.imp);
  });
  return out;
}

/** What one news.tsv yields. */
export interface NewsParse {
  articles: Article[];
  rejected: LineProblem[];
}

/**
 * Every line of a news.tsv, through the catalog's MIND parser. Messy rows still load: a row with
 * only an id (or fewer than its 4 required columns) and a row without a title become an article
 * with an empty title (the catalog parser requires one; the lab only needs the id, and features
 * that need text see none). A row without a category has section null. `publishedAt(id)` dates
 * each article (MIND has no dates: the lab uses the time it is first seen in the logs).
 */
export function parseNews(text: string, publishedAt: (id: string) => number): NewsParse {
  const out: NewsParse = { articles: [], rejected: [] };
  lines(text, (line, n) => {
    const cells = line.replace(/\r$/, '').split('\t');
    const id = cells[0]!.trim();
    while (cells.length < 4) cells.push('');
    const untitled = cells[3]!.trim() === '';
    // A placeholder title passes the catalog parser's check, and is taken off again below.
    if (untitled) cells[3] = id === '' ? '-' : id;
    const r = parseMindLine(cells.join('\t'), publishedAt(id));
    if (!r.ok) return void out.rejected.push({ line: n, reason: `${r.error.field}: ${r.error.reason}` });
    out.articles.push(untitled ? { ...r.article, title: '' } : r.article);
  });
  return out;
}

function lines(text: string, each: (line: string, n: number) => void): void {
  const all = text.split('\n');
  for (let i = 0; i < all.length; i++) {
    if (all[i]!.trim() === '') continue;
    each(all[i]!, i + 1);
  }
}

/** One file's text and the name its problems are reported under (e.g. `train/behaviors.tsv`). */
export interface NamedText {
  name: string;
  text: string;
}

/** A train and a test log with their articles, ready for the protocols. */
export interface MindLogs {
  train: LabImpression[];
  test: LabImpression[];
  /** Every news row of both directories (the first row of an id wins). */
  articles: Map<string, Article>;
  /** `FILE:LINE: reason` for every line that did not load, malformed or duplicate. */
  problems: string[];
  /** How many lines did not load: malformed, and duplicate impression ids. */
  counts: { malformed: number; duplicates: number };
  /** Candidate or history ids with no news row: still scored, with no text or section. */
  unknownArticles: number;
}

/**
 * Loads a MIND train and test directory from their files' text. Articles are dated by the first
 * time they appear in either log (as a candidate, or in a history: then at that impression's
 * time); an article never seen in the logs is dated at the earliest impression.
 */
export function loadMindLogs(files: {
  trainNews: NamedText;
  trainBehaviors: NamedText;
  testNews: NamedText;
  testBehaviors: NamedText;
}): MindLogs {
  const problems: string[] = [];
  const counts = { malformed: 0, duplicates: 0 };
  const behaviors = (f: NamedText): LabImpression[] => {
    const r = parseBehaviors(f.text);
    for (const p of [...r.rejected, ...r.duplicates].sort((a, b) => a.line - b.line)) problems.push(`${f.name}:${p.line}: ${p.reason}`);
    counts.malformed += r.rejected.length;
    counts.duplicates += r.duplicates.length;
    return r.impressions;
  };
  const train = behaviors(files.trainBehaviors);
  const test = behaviors(files.testBehaviors);

  const firstSeen = new Map<string, number>();
  let earliest = Infinity;
  for (const imp of [...train, ...test]) {
    earliest = Math.min(earliest, imp.ts);
    for (const id of [...imp.history, ...imp.candidates.map((c) => c.articleId)]) {
      const seen = firstSeen.get(id);
      if (seen === undefined || imp.ts < seen) firstSeen.set(id, imp.ts);
    }
  }
  const fallback = Number.isFinite(earliest) ? earliest : 0;

  const articles = new Map<string, Article>();
  for (const f of [files.trainNews, files.testNews]) {
    const r = parseNews(f.text, (id) => firstSeen.get(id) ?? fallback);
    for (const p of r.rejected) problems.push(`${f.name}:${p.line}: ${p.reason}`);
    counts.malformed += r.rejected.length;
    for (const a of r.articles) if (!articles.has(a.id)) articles.set(a.id, a);
  }
  let unknownArticles = 0;
  for (const id of firstSeen.keys()) if (!articles.has(id)) unknownArticles++;
  return { train, test, articles, problems, counts, unknownArticles };
}
