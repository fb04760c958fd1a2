// The lab's MIND-format fixtures (train/, test/, test-unlabelled/): invented articles and readers,
// no third-party data, generated at test time into a temporary directory (never committed: MIND's
// licence forbids shipping its data, and this keeps the repository free of MIND-like files).
// Deterministic. Planted: each day one "hot" article is clicked most times it is shown (a
// popularity heuristic that sees recent clicks ranks it first), and every messy case of real logs:
// news rows without title, category or anything but the id; ids with no news row; empty
// histories; one-candidate impressions; duplicate impression ids; a bad time, a short line, a
// label 2, mixed labelled and bare candidates, unparsable entities.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRng } from '../../src/core/kernel/rng.js';

let dir: string | undefined;

/** The fixtures' directory (with train/, test/, test-unlabelled/), written once per test process. */
export function mindLabDir(): string {
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'readnext-mind-lab-'));
    writeMindLab(dir);
  }
  return dir;
}

/** Writes the fixtures under `out`. */
export function writeMindLab(out: string): void {
  const rng = seededRng(20191115);
  const rnd = () => rng.next();
  const int = (n: number) => rng.int(n);
  const write = (sub: string, behaviors: string[], news: string[]) => {
    mkdirSync(join(out, sub), { recursive: true });
    writeFileSync(join(out, sub, 'behaviors.tsv'), behaviors.join('\n') + '\n');
    writeFileSync(join(out, sub, 'news.tsv'), news.join('\n') + '\n');
  };
  const SECTIONS = ['news', 'sports', 'finance', 'lifestyle'];
  const WORDS = ['council', 'river', 'match', 'market', 'storm', 'school', 'budget', 'festival', 'bridge', 'election', 'harbour', 'museum'];
  const N = 50;
  const ids = Array.from({ length: N }, (_, i) => `N${i + 1}`);
  // N48-N50 have no news row (unknown articles).
  const UNKNOWN = new Set(['N48', 'N49', 'N50']);

  function newsLine(id: string, i: number): string {
    const section = SECTIONS[i % SECTIONS.length];
    const title = `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} ${id}`;
    const entities =
      i % 5 === 0
        ? JSON.stringify([
            { Label: WORDS[i % WORDS.length], Type: 'O', WikidataId: 'Q1', Confidence: 1, OccurrenceOffsets: [0], SurfaceForms: ['x'] },
          ])
        : '[]';
    if (id === 'N45') return `${id}\tnews\tlocal\t\tno title here\t\t[]\t[]`; // no title
    if (id === 'N46') return `${id}\t\t\t${title}\t\t\t[]\t[]`; // no category
    if (id === 'N47') return id; // id only
    return `${id}\t${section}\t${section}-sub\t${title}\tAbstract of ${id}.\thttps://example.org/${id}\t${entities}\t[]`;
  }

  const pad = (n: number) => String(n).padStart(2, '0');
  function usTime(day: number, minuteOfDay: number): string {
    const h24 = Math.floor(minuteOfDay / 60);
    const m = minuteOfDay % 60;
    const ampm = h24 < 12 ? 'AM' : 'PM';
    const h12 = h24 % 12 === 0 ? 12 : h24 % 12;
    return `11/${day}/2019 ${h12}:${pad(m)}:${pad(int(60))} ${ampm}`;
  }

  const hot: Record<number, string> = { 9: 'N3', 10: 'N3', 11: 'N12', 12: 'N12', 13: 'N21', 14: 'N21', 15: 'N30' };
  const readers = Array.from({ length: 40 }, (_, i) => `U${i + 1}`);
  const histories = new Map<string, string[]>(
    readers.map((u, i) => [u, i % 7 === 0 ? [] : Array.from({ length: 1 + int(6) }, () => ids[int(40)]!)]),
  );

  function impressions(days: number[], count: number, firstId: number, labelled: boolean): string[] {
    const rows: string[] = [];
    for (let n = 0; n < count; n++) {
      const day = days[Math.floor((n * days.length) / count)]!;
      const u = readers[int(readers.length)]!;
      const k = n % 17 === 0 ? 1 : 2 + int(7);
      const cands = new Set<string>(n % 3 === 0 ? [hot[day]!] : []);
      while (cands.size < k) cands.add(ids[int(N)]!);
      const labels = [...cands].map((a) => (rnd() < (a === hot[day] ? 0.85 : 0.08) ? 1 : 0));
      if (labelled && n % 11 === 5) labels.fill(1); // all clicked
      const cells = [...cands].map((a, j) => (labelled ? `${a}-${labels[j]}` : a));
      // Minutes spread over the day, in file order; 12 AM and 12 PM both occur.
      const minute = Math.floor(((n % Math.ceil(count / days.length)) / Math.ceil(count / days.length)) * 1439);
      rows.push([String(firstId + n), u, usTime(day, minute), histories.get(u)!.join(' '), cells.join(' ')].join('\t'));
    }
    return rows;
  }

  const newsRows = ids.filter((id) => !UNKNOWN.has(id)).map((id, i) => newsLine(id, i));
  const trainNews = newsRows.filter((_, i) => i % 2 === 0 || i < 30);
  const testNews = [...newsRows.filter((_, i) => i >= 20), 'N99\tnews\tlocal\tBad entities\t\t\tnot json\t[]'];

  const train = impressions([9, 10, 11, 12, 13, 14], 130, 1, true);
  train.splice(10, 0, '131\tU1\t13/40/2019 8:00:00 AM\t\tN1-1'); // bad time
  train.splice(20, 0, '132\tU2\t11/10/2019 9:00:00 AM\tN1'); // 4 columns
  train.splice(30, 0, train[29]!.replace(/^\d+/, '5')); // duplicate id 5
  const test = impressions([15], 80, 1001, true);
  test.splice(7, 0, '1181\tU3\t11/15/2019 12:30:00 AM\t\tN1-2 N2-0'); // label 2
  test.splice(15, 0, '1182\tU4\t11/15/2019 12:30:00 PM\t\tN1-1 N2'); // mixed labels
  test.splice(25, 0, test[24]!.replace(/^\d+/, '1010')); // duplicate id 1010
  test.push('1183\tU5\t11/15/2019 11:59:59 PM\t\tN48-0 N49-1 N50-0'); // only unknown articles
  write('train', train, trainNews);
  write('test', test, testNews);
  write('test-unlabelled', impressions([15], 30, 2001, false), testNews);
}
