// The Catalog page (issue 20, page 8): search and browse the articles (GET /v1/admin/articles with
// q, section, limit, offset), and for a chosen article (#/catalog/<id>) the slate every recommender
// deployed on a placement would give, side by side (GET /v1/admin/preview: live, shadows, canary,
// experiment arms; it writes nothing), optionally for one reader (whose reading history is left out).
import { useEffect, useState } from 'preact/hooks';
import type { PreviewResponse, PreviewSlate } from '../../../../app/serving.js';
import { api } from '../api.js';
import { fetchDeployments } from '../placements.js';
import { fmt, useLoad } from '../use-load.js';
import './catalog.css';

const PAGE = 20;

/** An article as GET /v1/admin/articles answers it (the fields this page shows). */
interface ArticleJson {
  id: string;
  title: string;
  url: string | null;
  section: string | null;
  publishedAt: string;
  status: string;
  lead: string | null;
}

const day = (iso: string) => iso.replace('T', ' ').slice(0, 16);
const articleHash = (id: string) => `#/catalog/${encodeURIComponent(id)}`;

export function Catalog({ rest }: { rest: string[] }) {
  // What the search form holds, and what was last searched (paging keeps the latter).
  const [text, setText] = useState('');
  const [sectionText, setSectionText] = useState('');
  const [search, setSearch] = useState({ q: '', section: '', offset: 0 });
  const list = useLoad(() => {
    const p = new URLSearchParams({ limit: String(PAGE), offset: String(search.offset) });
    if (search.q) p.set('q', search.q);
    if (search.section) p.set('section', search.section);
    return api<{ total: number; items: ArticleJson[] }>('GET', `/v1/admin/articles?${p.toString()}`);
  }, [search.q, search.section, search.offset]);
  // Sections seen so far, offered as suggestions in the section field.
  const [sections, setSections] = useState<string[]>([]);
  useEffect(() => {
    const got = list.data?.items.map((a) => a.section).filter((s): s is string => s !== null) ?? [];
    setSections((old) => (got.every((s) => old.includes(s)) ? old : [...new Set([...old, ...got])].sort()));
  }, [list.data]);

  const chosenId = rest[0];
  const total = list.data?.total ?? 0;
  const from = total === 0 ? 0 : search.offset + 1;
  const to = Math.min(search.offset + PAGE, total);
  return (
    <>
      <section aria-labelledby="catalog-search-h">
        <h2 id="catalog-search-h">Articles</h2>
        <form
          class="catalog-search"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            setSearch({ q: text.trim(), section: sectionText.trim(), offset: 0 });
          }}
        >
          <div>
            <label for="catalog-q">Title contains</label>
            <input id="catalog-q" type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} maxLength={200} />
          </div>
          <div>
            <label for="catalog-section">Section</label>
            <input
              id="catalog-section"
              list="catalog-sections"
              value={sectionText}
              onInput={(e) => setSectionText(e.currentTarget.value)}
              maxLength={200}
              placeholder="any"
            />
            <datalist id="catalog-sections">
              {sections.map((s) => (
                <option key={s} value={s} />
              ))}
            </datalist>
          </div>
          <button type="submit">Search</button>
        </form>
        {list.error && <p role="alert">{list.error}</p>}
        <p aria-live="polite" class="muted">
          {list.loading
            ? 'Searching…'
            : total === 0
              ? 'No article matches.'
              : `Articles ${fmt(from)}–${fmt(to)} of ${fmt(total)}${search.q ? ` with “${search.q}” in the title` : ''}${search.section ? ` in ${search.section}` : ''}, newest first.`}
        </p>
        {list.data && list.data.items.length > 0 && (
          <div class="scroll">
            <table class="catalog-list">
              <caption class="sr-only">Matching articles, newest first; choose one to see its slates</caption>
              <thead>
                <tr>
                  <th scope="col">Title</th>
                  <th scope="col">Section</th>
                  <th scope="col">Published (UTC)</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((a) => (
                  <tr key={a.id} aria-current={a.id === chosenId ? 'true' : undefined}>
                    <td>
                      <a href={articleHash(a.id)}>{a.title}</a>
                      <div class="muted id">{a.id}</div>
                    </td>
                    <td>{a.section ?? '–'}</td>
                    <td>{day(a.publishedAt)}</td>
                    <td>{a.status}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {total > PAGE && (
          <nav class="row" aria-label="Pages of articles">
            <button
              type="button"
              disabled={search.offset === 0}
              onClick={() => setSearch({ ...search, offset: Math.max(0, search.offset - PAGE) })}
            >
              Previous
            </button>
            <button type="button" disabled={to >= total} onClick={() => setSearch({ ...search, offset: search.offset + PAGE })}>
              Next
            </button>
          </nav>
        )}
      </section>
      {chosenId !== undefined && <Slates key={chosenId} articleId={chosenId} />}
    </>
  );
}

/** The chosen article and the slates of every deployed recommender for it. */
function Slates({ articleId }: { articleId: string }) {
  const article = useLoad(() => api<ArticleJson>('GET', `/v1/admin/articles/${encodeURIComponent(articleId)}`), [articleId]);
  const deployments = useLoad(fetchDeployments, []);
  const placements = deployments.data?.items.map((d) => d.name) ?? [];
  const [placement, setPlacement] = useState<string | null>(null);
  const chosen = placement ?? (placements.includes('read-next') ? 'read-next' : placements[0]);
  // The reader and slate size as typed, and as last asked for.
  const [readerText, setReaderText] = useState('');
  const [kText, setKText] = useState('');
  const [asked, setAsked] = useState({ reader: '', k: '' });
  const preview = useLoad(async () => {
    if (chosen === undefined) return undefined;
    const p = new URLSearchParams({ placement: chosen, article: articleId });
    if (asked.reader) p.set('reader', asked.reader);
    if (asked.k) p.set('k', asked.k);
    return api<PreviewResponse>('GET', `/v1/admin/preview?${p.toString()}`);
  }, [chosen, articleId, asked.reader, asked.k]);
  const a = article.data;
  return (
    <section aria-labelledby="catalog-article-h" class="catalog-article">
      <h2 id="catalog-article-h">{a ? a.title : articleId}</h2>
      {article.error && <p role="alert">{article.error}</p>}
      {a && (
        <p class="muted">
          {a.id} · {a.section ?? 'no section'} · published {day(a.publishedAt)} UTC · {a.status}
          {a.url && (
            <>
              {' · '}
              <a href={a.url} rel="noreferrer noopener" target="_blank">
                open the article
              </a>
            </>
          )}
        </p>
      )}
      {deployments.error && <p role="alert">{deployments.error}</p>}
      {deployments.data && placements.length === 0 && <p>No placement is deployed.</p>}
      {chosen !== undefined && (
        <form
          class="catalog-search"
          onSubmit={(e) => {
            e.preventDefault();
            setAsked({ reader: readerText.trim(), k: kText.trim() });
          }}
        >
          <div>
            <label for="preview-placement">Placement</label>
            <select id="preview-placement" value={chosen} onChange={(e) => setPlacement(e.currentTarget.value)}>
              {placements.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="preview-reader">Reader id (optional)</label>
            <input id="preview-reader" value={readerText} onInput={(e) => setReaderText(e.currentTarget.value)} maxLength={128} />
          </div>
          <div>
            <label for="preview-k">Slate size</label>
            <input
              id="preview-k"
              type="number"
              min={1}
              max={100}
              value={kText}
              placeholder="default"
              onInput={(e) => setKText(e.currentTarget.value)}
            />
          </div>
          <button type="submit">Show slates</button>
        </form>
      )}
      {preview.error && <p role="alert">{preview.error}</p>}
      {preview.data && (
        <>
          <p class="muted" aria-live="polite">
            {preview.data.slates.length} slates of {preview.data.k} on {preview.data.placement} (revision {preview.data.revision})
            {preview.data.readerId ? ` for reader ${preview.data.readerId}, whose reads are left out` : ' for an anonymous reader'}. The
            live slate, the canary and the arms include the placement&apos;s fallbacks; a shadow is shown alone. Nothing is recorded.
            {preview.data.warming && ' The server is warming up: readers get a stopgap meanwhile.'}
          </p>
          <div class="slates">
            {preview.data.slates.map((s, i) => (
              <SlateCard key={i} s={s} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}

const ROLE: Record<PreviewSlate['role'], string> = { live: 'Live', shadow: 'Shadow', canary: 'Canary', arm: 'Arm' };

function SlateCard({ s }: { s: PreviewSlate }) {
  const name = `${ROLE[s.role]}${s.role === 'arm' ? ` ${s.arm} of ${s.experiment}` : ''}: ${s.recommender.kind}@${s.recommender.version}`;
  const id = `slate-${s.role}-${s.experiment ?? ''}-${s.arm ?? ''}-${s.recommender.kind}-${s.recommender.version}`.replace(
    /[^A-Za-z0-9_-]/g,
    '_',
  );
  return (
    <section class={`slate card ${s.role}`} aria-labelledby={id}>
      <h3 id={id}>{name}</h3>
      {s.fallback && <p class="muted">Filled with fallbacks (or the article is unknown).</p>}
      {s.faults.map((f, i) => (
        <p key={i} class="error">
          {f.kind} failed: {f.message}
        </p>
      ))}
      {s.items.length === 0 ? (
        <p class="muted">Shows nothing.</p>
      ) : (
        <ol>
          {s.items.map((it) => (
            <li key={it.articleId} value={it.position}>
              <a href={articleHash(it.articleId)}>{it.title || it.articleId}</a>
              <span class="muted reason"> {it.reason}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
