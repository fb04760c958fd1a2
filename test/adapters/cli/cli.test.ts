import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/adapters/cli/program.js';
import { openStorage } from '../../../src/adapters/storage/open.js';
import { fixedClock } from '../../../src/core/kernel/clock.js';
import { cliDeps } from '../../../src/main/cli-deps.js';
import { tempDir } from '../../helpers/databases.js';
import { sharedFile, WIKIPEDIA_ITEMS } from '../../helpers/shared-data.js';
import { syntheticWikipediaItems, toJsonLines } from '../../helpers/synthetic-news.js';
import { mindNewsFile } from '../../helpers/mind-news.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const WIKI = sharedFile(WIKIPEDIA_ITEMS, 'the real-data twin of the Wikipedia import test (cli.test.ts)');
const NOW = Date.parse('2026-11-25T12:00:00Z');

const dir = tempDir();
afterAll(() => dir.remove());
let n = 0;
const freshDb = () => `sqlite:${join(dir.path, `cli-${++n}.db`)}`;

/** Runs the CLI in process, as `readnext ARGS`, and captures its output. */
async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    cliDeps({ out: (l) => out.push(l), err: (l) => err.push(l), isTty: false, clock: fixedClock(NOW), env: {} }),
    args,
  );
  return { code, out: out.join('\n'), err: err.join('\n'), errLines: err };
}

async function withDb<T>(db: string, f: (s: Awaited<ReturnType<typeof openStorage>>) => Promise<T>): Promise<T> {
  const s = await openStorage(db);
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}

describe('readnext import articles', () => {
  it('loads good JSON lines, reports bad ones as file:line, and exits 1', async () => {
    const db = freshDb();
    const src = join(FIXTURES, 'catalog-sample.jsonl');
    const r = await cli('import', 'articles', src, '--db', db);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${src}:3: headline: unknown field "headline"`);
    expect(r.out).toMatch(/imported \d+ articles/);
    await withDb(db, async (s) => {
      expect(await s.getArticle('jl-001')).toMatchObject({ title: 'Ferry timetable changes for the summer', section: 'Transport' });
      expect(await s.getArticle('jl-003')).toBeUndefined();
    });
  });

  it('is idempotent: a second import updates and inserts nothing new', async () => {
    const db = freshDb();
    const src = join(FIXTURES, 'feed.rss.xml');
    const first = await cli('import', 'articles', src, '--db', db);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/imported 3 articles .*\(3 new, 0 updated\), 0 rejected of 3 read/);
    const second = await cli('import', 'articles', src, '--db', db);
    expect(second.out).toMatch(/\(0 new, 3 updated\)/);
    await withDb(db, async (s) => expect(await s.countArticles()).toBe(3));
  });

  it('imports Atom and MIND with their quirks (empty abstracts, missing entities)', async () => {
    const db = freshDb();
    expect((await cli('import', 'articles', join(FIXTURES, 'feed.atom.xml'), '--db', db)).code).toBe(0);
    const mind = await cli('import', 'articles', mindNewsFile(), '--db', db);
    expect(mind.code).toBe(1); // the fixture has one line with broken entity JSON
    expect(mind.err).toMatch(/mind_news\.tsv:5: title_entities/);
    await withDb(db, async (s) => {
      const noAbstract = await s.getArticle('N1002');
      expect(noAbstract).toMatchObject({ lead: null, section: 'sports', publishedAt: NOW });
      expect((await s.getArticle('N1004'))?.tags).toEqual([]);
      expect((await s.getArticle('N1006'))?.title).toContain('Zürich');
    });
  });

  it('--rebase-dates moves the newest article to now and keeps the spacing', async () => {
    const db = freshDb();
    expect((await cli('import', 'articles', join(FIXTURES, 'feed.rss.xml'), '--rebase-dates', '--db', db)).code).toBe(0);
    const plain = freshDb();
    await cli('import', 'articles', join(FIXTURES, 'feed.rss.xml'), '--db', plain);
    const times = async (url: string) =>
      withDb(url, async (s) => (await s.listArticles({ limit: 10, offset: 0 })).map((a) => a.publishedAt));
    const rebased = await times(db);
    const original = await times(plain);
    expect(rebased[0]).toBe(NOW);
    expect(rebased.map((t) => t - rebased[0]!)).toEqual(original.map((t) => t - original[0]!));
  });

  it('imports a feed from a URL', async () => {
    const xml = await readFile(join(FIXTURES, 'feed.rss.xml'), 'utf8');
    const server: Server = createServer((req, res) => {
      if (req.url === '/feed.xml') res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(xml);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const db = freshDb();
      const ok = await cli('import', 'articles', `http://127.0.0.1:${port}/feed.xml`, '--db', db);
      expect(ok.code).toBe(0);
      expect(ok.out).toMatch(/imported 3 articles/);
      const missing = await cli('import', 'articles', `http://127.0.0.1:${port}/nope.xml`, '--format', 'rss', '--db', db);
      expect(missing.code).toBe(3);
      expect(missing.errLines).toHaveLength(1);
      expect(missing.err).toMatch(/HTTP 404/);
    } finally {
      server.close();
    }
  });

  /** Imports an items.jsonl with --rebase-dates: every item stored, the newest moved to now. */
  async function importWikipedia(file: string, count: number): Promise<void> {
    const db = freshDb();
    const t0 = performance.now();
    const r = await cli('import', 'articles', file, '--rebase-dates', '--db', db);
    const seconds = (performance.now() - t0) / 1000;
    console.log(`imported ${file} in ${seconds.toFixed(2)} s (${r.out})`);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`imported ${count} articles`);
    expect(r.out).toContain('0 rejected');
    await withDb(db, async (s) => {
      expect(await s.countArticles()).toBe(count);
      expect((await s.listArticles({ limit: 1, offset: 0 }))[0]!.publishedAt).toBe(NOW);
    });
  }

  it('imports a whole generated Wikipedia current-events file (format detected; time printed, not asserted)', async () => {
    const items = syntheticWikipediaItems();
    const file = join(dir.path, 'items.jsonl');
    writeFileSync(file, toJsonLines(items));
    await importWikipedia(file, items.length);
  });

  describe.skipIf(WIKI === null)('the real Wikipedia current-events data set (extra)', () => {
    it('imports all 10,588 items (time printed, not asserted)', async () => {
      await importWikipedia(WIKI!, 10588);
    });
  });
});

describe('CLI usage errors: exit 2 with one line', () => {
  it.each([
    [['import', 'articles']],
    [['import', 'articles', 'x.jsonl', '--format', 'csv']],
    [['bogus']],
    [['serve', '--port', 'abc']],
    [['import', 'articles', '/nonexistent/file.jsonl']],
    [['import', 'articles', join(FIXTURES, 'feed.rss.xml'), '--db', 'mysql://x']],
  ])('readnext %j', async (args) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(/^readnext: /);
  });

  it('a file of unknown format asks for --format', async () => {
    const r = await cli('import', 'articles', join(FIXTURES, '..', 'architecture.test.ts'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--format/);
  });

  it('--help and --version exit 0', async () => {
    expect((await cli('--help')).code).toBe(0);
    const v = await cli('--version');
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^\d+\.\d+\.\d+/);
  });
});
