import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mindLabDir } from '../../helpers/mind-lab.js';
import { describe, expect, it } from 'vitest';
import { loadMindLogs, parseBehaviorLine, parseBehaviors, parseMindTime, parseNews } from '../../../src/core/lab/mind.js';

const fixture = (f: string) => ({ name: f, text: readFileSync(join(mindLabDir(), f), 'utf8') });

describe('parseMindTime: M/D/YYYY h:mm:ss AM|PM, read as UTC', () => {
  it.each([
    ['11/15/2019 8:55:22 AM', Date.UTC(2019, 10, 15, 8, 55, 22)],
    ['11/15/2019 8:55:22 PM', Date.UTC(2019, 10, 15, 20, 55, 22)],
    ['11/15/2019 12:00:01 AM', Date.UTC(2019, 10, 15, 0, 0, 1)],
    ['11/15/2019 12:00:01 PM', Date.UTC(2019, 10, 15, 12, 0, 1)],
    ['2/29/2020 11:59:59 pm', Date.UTC(2020, 1, 29, 23, 59, 59)],
  ])('%s', (s, ts) => expect(parseMindTime(s)).toBe(ts));

  it.each([
    '13/1/2019 8:00:00 AM',
    '2/29/2019 8:00:00 AM',
    '11/15/2019 0:10:00 AM',
    '11/15/2019 13:10:00 PM',
    '2019-11-15T08:00:00Z',
    '11/15/2019 8:55 AM',
    '',
  ])('rejects %j', (s) => expect(parseMindTime(s)).toBeNull());
});

describe('parseBehaviorLine', () => {
  it('reads labelled candidates and the history', () => {
    const r = parseBehaviorLine('7\tU1\t11/15/2019 8:55:22 AM\tN1 N2\tN3-1 N4-0\r');
    expect(r).toEqual({
      ok: true,
      imp: {
        id: '7',
        readerId: 'U1',
        ts: Date.UTC(2019, 10, 15, 8, 55, 22),
        history: ['N1', 'N2'],
        candidates: [
          { articleId: 'N3', clicked: true },
          { articleId: 'N4', clicked: false },
        ],
      },
    });
  });

  it('reads an empty history, one candidate, and a test log without labels', () => {
    const r = parseBehaviorLine('8\tU1\t11/15/2019 8:55:22 AM\t\tN3 N4');
    expect(r.ok && r.imp.history).toEqual([]);
    expect(r.ok && r.imp.candidates).toEqual([
      { articleId: 'N3', clicked: null },
      { articleId: 'N4', clicked: null },
    ]);
    const one = parseBehaviorLine('9\tU1\t11/15/2019 8:55:22 AM\t\tN3-0');
    expect(one.ok && one.imp.candidates).toEqual([{ articleId: 'N3', clicked: false }]);
  });

  it.each([
    ['8\tU1\t11/15/2019 8:55:22 AM\tN1', 'has 4 tab-separated column(s)'],
    ['\tU1\t11/15/2019 8:55:22 AM\t\tN1-1', 'impression id'],
    ['8\t\t11/15/2019 8:55:22 AM\t\tN1-1', 'user id'],
    ['8\tU1\t2019-11-15\t\tN1-1', 'time "2019-11-15"'],
    ['8\tU1\t11/15/2019 8:55:22 AM\t\t ', 'has no candidates'],
    ['8\tU1\t11/15/2019 8:55:22 AM\t\tN1-2', 'the label must be 0 or 1'],
    ['8\tU1\t11/15/2019 8:55:22 AM\t\tN1-1 N2', 'mix labelled'],
  ])('rejects %j', (line, reason) => {
    const r = parseBehaviorLine(line);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain(reason);
  });
});

describe('parseBehaviors', () => {
  it('keeps the first of duplicate ids, reports the rest and malformed lines by line number, skips blank lines', () => {
    const text = [
      '1\tU1\t11/15/2019 8:00:00 AM\t\tN1-1 N2-0',
      '',
      '2\tU2\tbad\t\tN1-1',
      '1\tU3\t11/15/2019 9:00:00 AM\t\tN3-1',
      '3\tU3\t11/15/2019 9:00:00 AM\t\tN3-0',
      '',
    ].join('\n');
    const r = parseBehaviors(text);
    expect(r.impressions.map((i) => [i.id, i.readerId])).toEqual([
      ['1', 'U1'],
      ['3', 'U3'],
    ]);
    expect(r.rejected).toEqual([{ line: 3, reason: 'time "bad" is not M/D/YYYY h:mm:ss AM|PM' }]);
    expect(r.duplicates).toEqual([{ line: 4, reason: 'duplicate impression id 1 (first on line 1); kept the first' }]);
  });
});

describe('parseNews: messy rows still load', () => {
  it('loads rows without title, category, or anything but the id; rejects broken ones', () => {
    const text = [
      'N1\tnews\tlocal\tA title\tAn abstract\t\t[]\t[]',
      'N2\tnews\tlocal\t\t\t\t[]\t[]',
      'N3\t\t\tTitled\t\t\t[]\t[]',
      'N4',
      'N5\tnews\tlocal\tT\t\t\tnot json\t[]',
      '\tnews\tx\tT',
    ].join('\n');
    const r = parseNews(text, () => 1000);
    expect(r.articles.map((a) => [a.id, a.title, a.section, a.publishedAt])).toEqual([
      ['N1', 'A title', 'news', 1000],
      ['N2', '', 'news', 1000],
      ['N3', 'Titled', null, 1000],
      ['N4', '', null, 1000],
    ]);
    expect(r.rejected.map((p) => p.line)).toEqual([5, 6]);
    expect(r.rejected[0]!.reason).toMatch(/^title_entities: is not valid JSON/);
    expect(r.rejected[1]!.reason).toBe('id: must not be empty');
  });
});

describe('loadMindLogs on the fixtures (test/helpers/mind-lab.ts)', () => {
  const logs = loadMindLogs({
    trainNews: fixture('train/news.tsv'),
    trainBehaviors: fixture('train/behaviors.tsv'),
    testNews: fixture('test/news.tsv'),
    testBehaviors: fixture('test/behaviors.tsv'),
  });

  it('loads the good lines and reports every bad one as FILE:LINE: reason', () => {
    expect(logs.train).toHaveLength(130);
    expect(logs.test).toHaveLength(81);
    expect(logs.problems.slice(0, -1)).toEqual([
      'train/behaviors.tsv:11: time "13/40/2019 8:00:00 AM" is not M/D/YYYY h:mm:ss AM|PM',
      'train/behaviors.tsv:21: has 4 tab-separated column(s); expected 5 (id, user, time, history, impressions)',
      'train/behaviors.tsv:31: duplicate impression id 5 (first on line 5); kept the first',
      'test/behaviors.tsv:8: candidate "N1-2": the label must be 0 or 1',
      'test/behaviors.tsv:16: candidates mix labelled (ID-0/ID-1) and unlabelled ids',
      'test/behaviors.tsv:26: duplicate impression id 1010 (first on line 11); kept the first',
    ]);
    expect(logs.problems.at(-1)).toMatch(/^test\/news\.tsv:28: title_entities: is not valid JSON/);
    expect(logs.counts).toEqual({ malformed: 5, duplicates: 2 });
  });

  it('dates articles by their first appearance, keeps untitled and unknown ones apart', () => {
    expect(logs.articles.get('N45')?.title).toBe('');
    expect(logs.articles.get('N46')?.section).toBeNull();
    expect(logs.articles.get('N47')?.title).toBe('');
    for (const id of ['N48', 'N49', 'N50']) expect(logs.articles.has(id)).toBe(false);
    expect(logs.unknownArticles).toBe(3);
    const first = Math.min(
      ...[...logs.train, ...logs.test]
        .filter((i) => i.candidates.some((c) => c.articleId === 'N30') || i.history.includes('N30'))
        .map((i) => i.ts),
    );
    expect(logs.articles.get('N30')?.publishedAt).toBe(first);
  });

  it('has the messy cases the lab must survive', () => {
    expect(logs.test.some((i) => i.history.length === 0)).toBe(true);
    expect(logs.test.some((i) => i.candidates.length === 1)).toBe(true);
    expect(logs.test.some((i) => i.candidates.every((c) => c.clicked))).toBe(true);
    expect(logs.test.some((i) => i.candidates.every((c) => !c.clicked))).toBe(true);
  });
});
