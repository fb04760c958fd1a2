import { createHash } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ArticleStore } from '../../app/ports.js';
import type { Article } from '../../core/catalog/article.js';
import type { Clock } from '../../core/kernel/clock.js';
import { html, raw, type Html } from './html.js';
import { sdkRoute } from './sdk-route.js';

export interface DemoSiteDeps {
  articles: Pick<ArticleStore, 'listArticles' | 'getArticle'>;
  siteName?: string;
  /** Hides embargoed articles; default: the system clock. */
  clock?: Clock;
  /** The built browser SDK served at `/sdk.js` (dist/sdk.js; `sdkRoute`). */
  sdkFile: string;
  /** Where a missing SDK is reported; default stderr. */
  log?: (line: string) => void;
}

const HOME_SCAN = 200; // newest articles considered for the home page
const HOME_SECTIONS = 8;
const PER_SECTION = 4;
const LEAD_CHARS = 220;

const CSS = `
:root{color-scheme:light dark;--fg:#1d1d1b;--muted:#6b6b66;--bg:#fdfcf8;--rule:#e4e1d8;--accent:#8a1c1c}
@media (prefers-color-scheme:dark){:root{--fg:#ebe9e3;--muted:#a3a19a;--bg:#161614;--rule:#34332f;--accent:#e58b7b}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:1.125rem/1.65 Georgia,"Iowan Old Style","Times New Roman",serif}
.wrap{max-width:42rem;margin:0 auto;padding:0 1.25rem}
header.site{border-bottom:1px solid var(--rule);padding:1rem 0;margin-bottom:2rem}
header.site a{color:var(--fg);text-decoration:none;font-weight:700;font-size:1.6rem;letter-spacing:-.01em}
footer.site{border-top:1px solid var(--rule);margin-top:3rem;padding:1rem 0 2rem;color:var(--muted);font-size:.875rem}
a{color:var(--accent)}
h1{font-size:2.1rem;line-height:1.2;margin:.25rem 0 .75rem;letter-spacing:-.01em}
h2{font-size:1.3rem;line-height:1.3;margin:2rem 0 .75rem}
.kicker,.meta,.section-title,.readnext-title{font-family:system-ui,-apple-system,"Segoe UI",sans-serif}
.kicker{text-transform:uppercase;letter-spacing:.08em;font-size:.8rem;color:var(--accent);font-weight:600}
.meta{color:var(--muted);font-size:.9rem;margin-bottom:1.5rem}
.lead{font-size:1.25rem;line-height:1.55}
.section-title{text-transform:capitalize;font-size:1rem;letter-spacing:.04em;border-bottom:2px solid var(--fg);padding-bottom:.25rem}
ul.cards{list-style:none;margin:0;padding:0}
ul.cards li{padding:.75rem 0;border-bottom:1px solid var(--rule)}
ul.cards a{color:var(--fg);text-decoration:none;font-weight:700;font-size:1.15rem;line-height:1.35}
ul.cards a:hover,ul.cards a:focus{text-decoration:underline}
ul.cards p{margin:.25rem 0 0;color:var(--muted);font-size:1rem}
.read-next{margin-top:2.5rem;border-top:2px solid var(--fg);min-height:2rem}
.readnext-list{margin:0;padding-left:1.4rem}
.readnext-item{padding:.35rem 0}
.readnext-link{color:var(--fg);font-weight:700;text-decoration:none}
.readnext-link:hover,.readnext-link:focus{text-decoration:underline}
pre{overflow-x:auto;padding:.75rem 1rem;border:1px solid var(--rule);font-size:.9rem;line-height:1.5}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
a:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
@media (max-width:30rem){body{font-size:1.05rem}h1{font-size:1.65rem}.lead{font-size:1.1rem}}
`;

// Inline scripts are constants: catalog data reaches them only through escaped data-* attributes,
// which lets the Content-Security-Policy allow exactly these scripts by hash.
const ARTICLE_SCRIPT = `
document.addEventListener('DOMContentLoaded', function () {
  var el = document.getElementById('read-next');
  if (!window.readnext || !el) return;
  var article = el.getAttribute('data-article');
  readnext.init({ linkTemplate: '/articles/{id}' });
  readnext.pageView({ article: article });
  readnext.trackRead({ article: article, element: document.querySelector('article') });
  readnext.widget(el, { placement: 'read-next', article: article });
});
`;
const HOME_SCRIPT = `
document.addEventListener('DOMContentLoaded', function () {
  if (window.readnext) readnext.pageView({ page: '/' });
});
`;

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
const CSP = [
  "default-src 'self'",
  `script-src 'self' ${sha256(ARTICLE_SCRIPT)} ${sha256(HOME_SCRIPT)}`,
  `style-src 'self' ${sha256(CSS)}`,
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });
const articleHref = (id: string) => `/articles/${encodeURIComponent(id)}`;
const sectionName = (a: Article) => a.section?.trim() || 'news';
const excerpt = (s: string | null) => (s === null ? null : s.length > LEAD_CHARS ? `${s.slice(0, LEAD_CHARS).trimEnd()}…` : s);
const time = (ms: number) => html`<time datetime="${new Date(ms).toISOString()}">${dateFormat.format(ms)} UTC</time>`;

function page(siteName: string, title: string, body: Html, script?: string): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${title === siteName ? siteName : `${title} · ${siteName}`}</title>
<style>${raw(CSS)}</style>
<script src="/sdk.js" defer></script>
</head>
<body>
<header class="site"><div class="wrap"><a href="/">${siteName}</a></div></header>
<main class="wrap">
${body}
</main>
<footer class="site"><div class="wrap">${siteName} · a readnext demo newspaper</div></footer>
${script === undefined ? null : html`<script>${raw(script)}</script>`}
</body>
</html>
`.value;
}

function send(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'strict-origin-when-cross-origin')
    .send(body);
}

/** Shell command that loads the sample articles shipped in the repository (README, Quick start). */
export const SAMPLE_IMPORT_COMMAND = './bin/readnext.mjs import articles samples/marlowe-bay.jsonl --rebase-dates';

/** The home page of an empty catalog: how to load articles, for whoever just ran `npm start`. */
const emptyHomeBody = html`<h1>Nothing to read yet</h1>
<p>No article has been published. To load the sample articles that ship with readnext, run this in the readnext folder (add <code>--db URL</code> if the server was started with one):</p>
<pre><code>${SAMPLE_IMPORT_COMMAND}</code></pre>
<p>and reload this page: the server picks new articles up within a few seconds. Your own articles load the same way, from an RSS or Atom feed, a JSON lines file or a MIND <code>news.tsv</code> (see the README).</p>`;

/** Latest visible articles grouped by section; sections ordered by their newest article. */
function homeBody(articles: readonly Article[]): Html {
  const sections = new Map<string, Article[]>();
  for (const a of articles) {
    const name = sectionName(a);
    const list = sections.get(name) ?? [];
    if (!sections.has(name)) {
      if (sections.size >= HOME_SECTIONS) continue;
      sections.set(name, list);
    }
    if (list.length < PER_SECTION) list.push(a);
  }
  if (sections.size === 0) return emptyHomeBody;
  return html`<h1 class="visually-hidden">Latest news</h1>
${[...sections].map(
  ([name, list], i) => html`<section class="home-section" data-section="${name}" aria-labelledby="sec-${i}">
<h2 class="section-title" id="sec-${i}">${name}</h2>
<ul class="cards">
${list.map(
  (
    a,
  ) => html`<li data-article-id="${a.id}"><a href="${articleHref(a.id)}">${a.title}</a>${a.lead ? html`<p>${excerpt(a.lead)}</p>` : null}<div class="meta">${time(a.publishedAt)}</div></li>
`,
)}</ul>
</section>
`,
)}`;
}

function articleBody(a: Article): Html {
  const paragraphs = (a.body ?? '')
    .split(/\n\s*\n|\r?\n/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  return html`<article>
<header>
<div class="kicker">${sectionName(a)}</div>
<h1>${a.title}</h1>
<div class="meta">${a.author ? html`By ${a.author} · ` : null}${time(a.publishedAt)}</div>
</header>
${a.lead ? html`<p class="lead">${a.lead}</p>` : null}
${paragraphs.map((p) => html`<p>${p}</p>\n`)}
</article>
<aside id="read-next" class="read-next" aria-label="Read next" data-placement="read-next" data-article="${a.id}"></aside>
`;
}

/**
 * The demo newspaper: `GET /` (latest articles by section), `GET /articles/:id` (article page
 * with the read-next widget, page view and read tracking) and, registered from here,
 * `GET /sdk.js` (`sdkRoute()`, the built `deps.sdkFile`). Every catalog string is escaped by `html`.
 *
 * @example
 * await createApp({ ...deps, plugins: [demoSite({ articles: services.storage, sdkFile: '/srv/readnext/dist/sdk.js' })] });
 */
export function demoSite(deps: DemoSiteDeps): FastifyPluginAsync {
  const siteName = deps.siteName ?? 'The Daily Readnext';
  const now = () => (deps.clock ? deps.clock.now() : Date.now());
  const visible = (a: Article) => a.status === 'published' && (a.embargoUntil === null || a.embargoUntil <= now());

  return async (app) => {
    await app.register(sdkRoute({ file: deps.sdkFile, log: deps.log }));

    app.get('/', { schema: { hide: true } }, async (_req, reply) => {
      const articles = (await deps.articles.listArticles({ limit: HOME_SCAN, offset: 0 })).filter(visible);
      return send(reply, 200, page(siteName, siteName, homeBody(articles), HOME_SCRIPT));
    });

    app.get<{ Params: { id: string } }>('/articles/:id', { schema: { hide: true } }, async (req, reply) => {
      const a = await deps.articles.getArticle(req.params.id);
      if (a === undefined || (a.embargoUntil !== null && a.embargoUntil > now())) {
        return send(
          reply,
          404,
          page(
            siteName,
            'Not found',
            html`<h1>Article not found</h1><p>There is no such article. <a href="/">Back to the front page</a>.</p>`,
          ),
        );
      }
      if (a.status !== 'published') {
        const why = a.status === 'retracted' ? 'This article has been retracted.' : 'This article is no longer available.';
        return send(
          reply,
          410,
          page(siteName, 'Gone', html`<h1>Article unavailable</h1><p>${why} <a href="/">Back to the front page</a>.</p>`),
        );
      }
      return send(reply, 200, page(siteName, a.title, articleBody(a), ARTICLE_SCRIPT));
    });
  };
}
