// The dashboard (issue 20): a Preact single-page app served under /dashboard/, talking to the admin
// API only. At start it asks GET /v1/dashboard/session: 401 shows the sign-in form; otherwise the
// page the location hash names (#/deployments, #/experiments, #/roi).
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { checkSession, describeError, signOut, whenSignedOut } from './api.js';
import { Deployments } from './pages/deployments.js';
import { Experiments } from './pages/experiments.js';
import { Models } from './pages/models.js';
import { Overview } from './pages/overview.js';
import { Roi } from './pages/roi.js';
import { Data } from './pages/data.js';
import { Shadow } from './pages/shadow.js';
import { Catalog } from './pages/catalog.js';
import { SignIn } from './pages/sign-in.js';
import './style.css';

const PAGES = [
  { path: 'overview', title: 'Overview', Page: Overview },
  { path: 'deployments', title: 'Deployments', Page: Deployments },
  { path: 'experiments', title: 'Experiments', Page: Experiments },
  { path: 'shadow', title: 'Shadow and off-policy', Page: Shadow },
  { path: 'models', title: 'Models', Page: Models },
  { path: 'roi', title: 'ROI', Page: Roi },
  { path: 'data', title: 'Data', Page: Data },
  { path: 'catalog', title: 'Catalog', Page: Catalog },
] as const;

type Route = { page: (typeof PAGES)[number]; rest: string[] };

function route(hash: string): Route {
  const [first, ...rest] = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { page: PAGES.find((p) => p.path === first) ?? PAGES[0], rest };
}

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function App() {
  const [session, setSession] = useState<'checking' | 'out' | 'in'>('checking');
  const [error, setError] = useState<string | null>(null);
  const hash = useHash();
  const { page, rest } = route(hash);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    whenSignedOut(() => setSession('out'));
    checkSession().then(
      (ok) => setSession(ok ? 'in' : 'out'),
      (e: unknown) => {
        setError(describeError(e));
        setSession('out');
      },
    );
  }, []);
  // A new page moves the focus to its heading, so a keyboard or screen-reader user starts there.
  useEffect(() => {
    if (session === 'in') heading.current?.focus();
  }, [page.path, session]);
  useEffect(() => {
    document.title = session === 'in' ? `${page.title} · readnext` : 'Sign in · readnext';
  }, [page.title, session]);

  if (session === 'checking') return <p class="muted">Loading…</p>;
  if (session === 'out')
    return (
      <>
        {error && <p role="alert">{error}</p>}
        <SignIn onSignedIn={() => setSession('in')} />
      </>
    );
  const { Page } = page;
  return (
    <>
      <header class="top">
        <span class="brand">readnext</span>
        <nav aria-label="Dashboard pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={`#/${p.path}`} aria-current={p === page ? 'page' : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" class="link" onClick={() => void signOut().finally(() => setSession('out'))}>
          Sign out
        </button>
      </header>
      <main>
        <h1 tabIndex={-1} ref={heading}>
          {page.title}
        </h1>
        <Page rest={rest} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
