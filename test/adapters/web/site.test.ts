import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArticleStore } from '../../../src/app/ports.js';
import type { Article } from '../../../src/core/catalog/article.js';
import { fixedClock } from '../../../src/core/kernel/clock.js';
import { demoSite, SAMPLE_IMPORT_COMMAND } from '../../../src/adapters/web/site.js';
import { parseArticleJson } from '../../../src/core/catalog/article.js';
import { T0 } from '../../helpers/events.js';
import { builtSdk } from '../../helpers/sdk.js';

const HOUR = 3_600_000;
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const article = (id: string, over: Partial<Article> = {}): Article => ({
  id,
  url: `https://news.example/${id}`,
  title: `Title ${id}`,
  lead: `Lead ${id}`,
  body: `First paragraph of ${id}.\n\nSecond paragraph.`,
  section: 'world',
  tags: [],
  author: 'Ada Reporter',
  publishedAt: T0 - HOUR,
  updatedAt: null,
  expiresAt: null,
  embargoUntil: null,
  status: 'published',
  paywalled: false,
  language: 'en',
  ...over,
});

const catalog: Article[] = [
  article('w1', { publishedAt: T0 - 1 * HOUR }),
  article('w2', { publishedAt: T0 - 3 * HOUR }),
  article('w3', { publishedAt: T0 - 5 * HOUR }),
  article('w4', { publishedAt: T0 - 6 * HOUR }),
  article('w5', { publishedAt: T0 - 7 * HOUR }), // a fifth world article: beyond the per-section limit
  article('s1', { section: 'sport', publishedAt: T0 - 2 * HOUR }),
  article('s2', { section: 'sport', publishedAt: T0 - 4 * HOUR }),
  article('x1', {
    section: 'culture',
    title: '<script>alert("x")</script> & "quotes"',
    lead: '<img src=x onerror=alert(1)>',
    author: '<b>Eve</b>',
    body: 'a <i>b</i>\n\n</p><script>c</script>',
    publishedAt: T0 - 8 * HOUR,
  }),
  article('gone', { section: 'sport', status: 'retracted', publishedAt: T0 - 0.5 * HOUR }),
  article('off', { section: 'sport', status: 'unpublished', publishedAt: T0 - 0.6 * HOUR }),
  article('later', { section: 'world', embargoUntil: T0 + HOUR, publishedAt: T0 - 0.7 * HOUR }),
  article('id with/slash', { section: 'culture', title: 'Odd id', publishedAt: T0 - 9 * HOUR }),
];

/** The two ArticleStore methods the site uses, over an array (HTML rendering does not need a database). */
const fakeArticles: Pick<ArticleStore, 'listArticles' | 'getArticle'> = {
  async listArticles({ limit, offset, section }) {
    return catalog
      .filter((a) => section === undefined || a.section === section)
      .sort((a, b) => b.publishedAt - a.publishedAt || a.id.localeCompare(b.id))
      .slice(offset, offset + limit);
  },
  async getArticle(id) {
    return catalog.find((a) => a.id === id);
  },
};

let app: FastifyInstance;
let sdkFile: string;
beforeAll(async () => {
  sdkFile = await builtSdk();
  app = Fastify();
  await app.register(demoSite({ articles: fakeArticles, siteName: 'The Test Times', clock: fixedClock(T0), sdkFile }));
  await app.ready();
});
afterAll(async () => app.close());

/** The article ids of one home-page section, in page order. */
function sectionIds(body: string, section: string): string[] {
  const m = new RegExp(`<section class="home-section" data-section="${section}"[\\s\\S]*?</section>`).exec(body);
  return m ? [...m[0].matchAll(/<li data-article-id="([^"]+)"/g)].map((x) => x[1]!) : [];
}

describe('home page', () => {
  it('groups the latest published articles by section, newest first, a few per section', async () => {
    const res = await app.inject('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const body = res.body;
    expect(body).toContain('<title>The Test Times</title>');
    // Sections in the order of their newest article: world (w1, -1 h), sport (s1, -2 h), culture (x1, -8 h).
    expect([...body.matchAll(/data-section="([^"]+)"/g)].map((m) => m[1])).toEqual(['world', 'sport', 'culture']);
    expect(sectionIds(body, 'world')).toEqual(['w1', 'w2', 'w3', 'w4']);
    expect(sectionIds(body, 'sport')).toEqual(['s1', 's2']);
    expect(sectionIds(body, 'culture')).toEqual(['x1', 'id with/slash']);
    expect(body).toContain('href="/articles/w1"');
    expect(body).toContain('href="/articles/id%20with%2Fslash"');
    // Retracted, unpublished and embargoed articles are not listed.
    for (const hidden of ['gone', 'off', 'later']) expect(body).not.toContain(`data-article-id="${hidden}"`);
    expect(body).toContain('<script src="/sdk.js" defer></script>');
  });

  it('escapes catalog text', async () => {
    const body = (await app.inject('/')).body;
    expect(body).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(body).not.toContain('<script>alert');
    expect(body).not.toContain('<img');
  });

  it('says so when nothing is published, with the command that loads the sample articles', async () => {
    const empty = Fastify();
    await empty.register(demoSite({ articles: { listArticles: async () => [], getArticle: async () => undefined }, sdkFile }));
    const res = await empty.inject('/');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Nothing to read yet');
    expect(res.body).toContain('The Daily Readnext');
    expect(res.body).toContain('<pre><code>./bin/readnext.mjs import articles samples/marlowe-bay.jsonl --rebase-dates</code></pre>');
    expect(res.body).toContain(SAMPLE_IMPORT_COMMAND);
    await empty.close();
  });

  it('names a sample file that exists in the repository and imports without a rejected row', () => {
    const file = SAMPLE_IMPORT_COMMAND.split(' ').find((w) => w.endsWith('.jsonl'))!;
    const lines = readFileSync(join(REPO_ROOT, file), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.length).toBe(60);
    const parsed = lines.map((l) => parseArticleJson(JSON.parse(l)));
    expect(parsed.filter((p) => !p.ok)).toEqual([]);
    const ids = parsed.map((p) => (p.ok ? p.article.id : ''));
    expect(new Set(ids).size).toBe(lines.length);
  });
});

describe('article page', () => {
  it('shows the article and bootstraps the read-next widget, page view and read tracking', async () => {
    const res = await app.inject('/articles/w2');
    expect(res.statusCode).toBe(200);
    const body = res.body;
    expect(body).toContain('<title>Title w2 · The Test Times</title>');
    expect(body).toContain('<h1>Title w2</h1>');
    expect(body).toContain('<div class="kicker">world</div>');
    expect(body).toContain('By Ada Reporter');
    expect(body).toContain(`<time datetime="${new Date(T0 - 3 * HOUR).toISOString()}">1 March 2026 at 09:00 UTC</time>`);
    expect(body).toContain('<p class="lead">Lead w2</p>');
    expect(body).toContain('<p>First paragraph of w2.</p>');
    expect(body).toContain('<p>Second paragraph.</p>');
    expect(body).toContain(
      '<aside id="read-next" class="read-next" aria-label="Read next" data-placement="read-next" data-article="w2"></aside>',
    );
    expect(body).toContain("readnext.widget(el, { placement: 'read-next', article: article })");
    expect(body).toContain("readnext.init({ linkTemplate: '/articles/{id}' })");
    expect(body).toContain('readnext.pageView({ article: article })');
    expect(body).toContain('readnext.trackRead(');
    expect(body).toContain('<script src="/sdk.js" defer></script>');
  });

  it('escapes catalog text, which only reaches scripts through an escaped attribute', async () => {
    const body = (await app.inject('/articles/x1')).body;
    expect(body).toContain('<h1>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;</h1>');
    expect(body).toContain('By &lt;b&gt;Eve&lt;/b&gt;');
    expect(body).toContain('<p>&lt;/p&gt;&lt;script&gt;c&lt;/script&gt;</p>');
    // Two script elements: the SDK and our constant bootstrap.
    expect(body.match(/<script/g)).toHaveLength(2);
  });

  it('allows only its own scripts by Content-Security-Policy hash', async () => {
    const res = await app.inject('/articles/w1');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+' 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toContain('unsafe-inline');
    const inline = /<script>([\s\S]*?)<\/script>/.exec(res.body)![1]!;
    const { createHash } = await import('node:crypto');
    expect(csp).toContain(`'sha256-${createHash('sha256').update(inline).digest('base64')}'`);
  });

  it('decodes ids from the path', async () => {
    const res = await app.inject('/articles/id%20with%2Fslash');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('data-article="id with/slash"');
  });

  it('unknown or embargoed: 404 page', async () => {
    for (const url of ['/articles/nope', '/articles/later']) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('Article not found');
      expect(res.body).not.toContain('id="read-next"');
    }
  });

  it('retracted or unpublished: 410 page, without the article', async () => {
    const retracted = await app.inject('/articles/gone');
    expect(retracted.statusCode).toBe(410);
    expect(retracted.body).toContain('This article has been retracted.');
    expect(retracted.body).not.toContain('Title gone');
    const unpublished = await app.inject('/articles/off');
    expect(unpublished.statusCode).toBe(410);
    expect(unpublished.body).toContain('no longer available');
    expect(unpublished.body).not.toContain('Title off');
  });
});

describe('/sdk.js', () => {
  it('is served as cacheable JavaScript that parses', async () => {
    const res = await app.inject('/sdk.js');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(() => new Function(res.body)).not.toThrow();
    expect(res.body).toBe(readFileSync(sdkFile, 'utf8'));
    // Minified IIFE that installs window.readnext, with no Node or module syntax left in it.
    expect(res.body).toMatch(/^"use strict";\(\(\)=>\{/);
    expect(res.body).toContain('readnext');
    expect(res.body).not.toMatch(/\b(require\(|import\s|export\s)/);
    expect(res.body.length).toBeLessThan(16_000);
  });

  it('revalidates by ETag', async () => {
    const first = await app.inject('/sdk.js');
    const etag = String(first.headers.etag);
    const again = await app.inject({ url: '/sdk.js', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('is read from the build, never built by the server: a missing file is logged once and answers 503', async () => {
    const logged: string[] = [];
    const bare = Fastify();
    await bare.register(
      demoSite({ articles: fakeArticles, sdkFile: join(REPO_ROOT, 'dist', 'no-such-sdk.js'), log: (l) => logged.push(l) }),
    );
    const res = await bare.inject('/sdk.js');
    await bare.inject('/sdk.js');
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build');
    expect(logged).toEqual([expect.stringContaining('run `npm run build`')]);
    expect((await bare.inject('/')).statusCode).toBe(200);
    await bare.close();
  });
});
