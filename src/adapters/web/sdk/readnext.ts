/**
 * The readnext browser SDK: a dependency-free script that newsroom pages load with
 * `<script src="https://READNEXT/sdk.js" defer>`. scripts/build.mjs bundles this file to an IIFE
 * that sets `window.readnext`. Everything here runs in the reader's browser, never in Node.
 *
 * Contract with the host page: no call ever throws and no promise ever rejects; failures are
 * silent (console.debug). An opted-out reader still gets recommendations (asked for with
 * `optout=1` and no ids) but no event of any kind leaves the browser and nothing is stored.
 *
 * @example
 * readnext.init({ linkTemplate: '/articles/{id}' });
 * readnext.widget(document.getElementById('read-next'), { placement: 'read-next', article: 'a1' });
 * readnext.pageView({ article: 'a1' });
 * readnext.trackRead({ article: 'a1' });
 */
import type { RecommendationResponse } from '../../../api/types.js';
import { bounded, MAX_QUEUE_BYTES, MAX_QUEUE_EVENTS, nextBatch, orphanEvents, outcome, retryDelayMs, type QueuedEvent } from './queue.js';

export interface InitOptions {
  /** Base URL of the readnext server; default: the origin this script was loaded from. */
  endpoint?: string;
  /** Link of a recommended article, `{id}` replaced by its URL-encoded id; default: the item's url. */
  linkTemplate?: string;
}

export interface WidgetOptions {
  placement: string;
  /** The article the widget is shown on. */
  article: string;
  /** How many recommendations to ask for; default: the server's. */
  k?: number;
  /** Heading rendered above the list; default 'Read next', '' for none. */
  title?: string;
}

export interface ReadOptions {
  article: string;
  /** The element whose deepest scroll is measured; default: the whole page. */
  element?: Element | null;
}

export interface PageViewOptions {
  article?: string;
  /** A non-article page, e.g. '/'; default: the path when no article is given. */
  page?: string;
}

/** The recommendation response, as served by `GET /v1/recommendations` (checked loosely: isSlate). */
type Slate = RecommendationResponse;

type Json = Record<string, unknown>;

const READER_KEY = 'readnext_reader';
const SESSION_KEY = 'readnext_session';
const OPTOUT_KEY = 'readnext_optout';
/** The last widget click, so that the read of the clicked article can name its recommId. */
const CLICK_KEY = 'readnext_click';
const SESSION_IDLE_MS = 30 * 60 * 1000; // 30 minutes of inactivity start a new session
const FLUSH_DELAY_MS = 1000; // 1 s
const FLUSH_BATCH = 20;
/** Browsers refuse beacons and keepalive fetches over 64 KiB in flight; a post stays clearly below. */
const MAX_PAYLOAD_BYTES = 60_000;
const IMPRESSION_RATIO = 0.5;
const IMPRESSION_MS = 1000; // 1 s continuously ≥ 50 % visible
const FETCH_TIMEOUT_MS = 5000; // 5 s, after which the widget stays empty
const POST_TIMEOUT_MS = 30_000; // 30 s without an answer to a batch: abort it and retry
const CLICK_ATTRIBUTION_MS = 30 * 60 * 1000; // a read within 30 minutes of the click is attributed to it

const w = window as Window & { readnext?: unknown; doNotTrack?: string };
const nav = navigator as Navigator & { globalPrivacyControl?: boolean };

function debug(...args: unknown[]): void {
  try {
    console.debug('[readnext]', ...args);
  } catch {
    // console may be missing or patched by the host page
  }
}

/** Runs `fn` and swallows anything it throws: the host page must never see our errors. */
function safe<A extends unknown[], R>(fn: (...args: A) => R, fallback: R): (...args: A) => R {
  return (...args: A) => {
    try {
      return fn(...args);
    } catch (e) {
      debug(e);
      return fallback;
    }
  };
}

// ---- configuration

function scriptOrigin(): string {
  try {
    const s = document.currentScript as HTMLScriptElement | null;
    if (s && s.src) return new URL(s.src, location.href).origin;
  } catch {
    // fall through
  }
  return location.origin;
}

const config = { endpoint: scriptOrigin(), linkTemplate: undefined as string | undefined };

// ---- storage that may be unavailable (private mode, blocked third-party storage)

function storageGet(s: 'localStorage' | 'sessionStorage', key: string): string | null {
  try {
    return w[s].getItem(key);
  } catch {
    return null;
  }
}
function storageSet(s: 'localStorage' | 'sessionStorage', key: string, value: string): boolean {
  try {
    w[s].setItem(key, value);
    return w[s].getItem(key) === value;
  } catch {
    return false;
  }
}
function storageRemove(s: 'localStorage' | 'sessionStorage', key: string): void {
  try {
    w[s].removeItem(key);
  } catch {
    // unavailable: nothing stored there either
  }
}
function cookieGet(name: string): string | null {
  try {
    for (const part of document.cookie.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === name) return decodeURIComponent(v.join('='));
    }
  } catch {
    // cookies disabled
  }
  return null;
}
function cookieSet(name: string, value: string, maxAgeS: number): void {
  try {
    const secure = location.protocol === 'https:' ? '; Secure' : '';
    document.cookie = `${name}=${encodeURIComponent(value)}; Max-Age=${maxAgeS}; Path=/; SameSite=Lax${secure}`;
  } catch {
    // cookies disabled
  }
}

// ---- ids

function randomId(): string {
  const c = w.crypto as Crypto | undefined;
  try {
    if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  } catch {
    // randomUUID needs a secure context; fall back below
  }
  const b = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6]! & 0x0f) | 0x40; // version 4
  b[8] = (b[8]! & 0x3f) | 0x80; // variant 10
  const h = Array.from(b, (x) => (x + 0x100).toString(16).slice(1)).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * A UUID version 7 (RFC 9562, section 5.7): 48 bits of Unix time in milliseconds, then random
 * bits. Event ids are time-ordered so that the server appends them at the right edge of its
 * primary-key index (random v4 ids land on a random page each: measured 25-30k inserts/s on a
 * 1M-event SQLite table against 150k/s for ascending ids; bench:analysis).
 */
function timeOrderedId(): string {
  const b = new Uint8Array(16);
  const c = w.crypto as Crypto | undefined;
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = (b[6]! & 0x0f) | 0x70; // version 7
  b[8] = (b[8]! & 0x3f) | 0x80; // variant 10
  const h = Array.from(b, (x) => (x + 0x100).toString(16).slice(1)).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---- consent

let optedOutInMemory = false;

function optedOut(): boolean {
  if (optedOutInMemory || storageGet('localStorage', OPTOUT_KEY) === '1' || cookieGet(OPTOUT_KEY) === '1') return true;
  return nav.doNotTrack === '1' || w.doNotTrack === '1' || nav.globalPrivacyControl === true;
}

// ---- reader and session (only ever created for readers who did not opt out)

let memoryReader: string | undefined;
let memorySession: { id: string; t: number } | undefined;

function readerId(): string {
  let id = storageGet('localStorage', READER_KEY) ?? cookieGet(READER_KEY) ?? memoryReader;
  if (!id) {
    id = randomId();
    // localStorage first; the cookie only when it is unavailable. 400 days is the longest cookie browsers keep.
    if (!storageSet('localStorage', READER_KEY, id)) cookieSet(READER_KEY, id, 400 * 24 * 3600);
  }
  memoryReader = id;
  return id;
}

/** The session id, renewed after 30 minutes without activity; every call counts as activity. */
function sessionId(): string {
  const now = Date.now();
  let s = memorySession;
  try {
    const raw = storageGet('sessionStorage', SESSION_KEY);
    if (raw) s = JSON.parse(raw) as { id: string; t: number };
  } catch {
    // corrupt value: start a new session
  }
  if (!s || typeof s.id !== 'string' || typeof s.t !== 'number' || now - s.t > SESSION_IDLE_MS) s = { id: randomId(), t: now };
  s = { id: s.id, t: now };
  memorySession = s;
  storageSet('sessionStorage', SESSION_KEY, JSON.stringify(s));
  return s.id;
}

// ---- outbound queue and transport (docs/events.md, "The browser SDK's outbound queue")
//
// Unsent events live in memory and, mirrored, under a localStorage key of this page's own, so that
// a later page of the site (after a navigation, a reload, a crash) sends what this one could not.
// One writer per key: tabs never overwrite each other's events. An event leaves the queue only when
// the collector answered for it; retries carry the same eventId, which the collector deduplicates.

const QUEUE_PREFIX = 'readnext_q_';
/** When the next post may go, shared by the site's pages so that a new page honours a Retry-After too (ms). */
const RETRY_KEY = 'readnext_retry_at';
const pageKey = QUEUE_PREFIX + randomId();

let pending: QueuedEvent[] = [];
let dropped = 0;
let inFlight: string[] | undefined;
let attempt = 0;
let retryAt = 0;
let flushTimer: ReturnType<typeof setTimeout> | undefined;

function local(): Storage | undefined {
  try {
    return w.localStorage;
  } catch {
    return undefined;
  }
}

/** Mirrors `pending` to this page's key; `t` = 0 says the page is gone. Without storage (private mode, quota), memory only. */
function persist(gone = false): void {
  try {
    if (pending.length === 0) local()?.removeItem(pageKey);
    else local()?.setItem(pageKey, `{"t":${gone ? 0 : Date.now()},"e":${JSON.stringify(pending)}}`);
  } catch (e) {
    debug('queue kept in memory only', e);
  }
}

/** When the next post may leave: this page's backoff or another page's, whichever ends later (ms). */
const retryTime = (): number => Math.max(retryAt, Number(storageGet('localStorage', RETRY_KEY)) || 0);

function enqueue(events: readonly QueuedEvent[]): void {
  const r = bounded(pending, events, MAX_QUEUE_EVENTS, MAX_QUEUE_BYTES, MAX_PAYLOAD_BYTES);
  pending = r.events;
  if (r.dropped > 0) {
    dropped += r.dropped;
    debug(`queue full: ${r.dropped} oldest events dropped`);
  }
  persist();
}

/** Takes over the queues of pages that are gone (closed, navigated away, crashed): ours first, then theirs removed. */
function adopt(): void {
  const ls = local();
  const now = Date.now();
  try {
    for (let i = (ls?.length ?? 0) - 1; i >= 0; i--) {
      const k = ls!.key(i);
      if (!k || k === pageKey || k.indexOf(QUEUE_PREFIX) !== 0) continue;
      const events = orphanEvents(ls!.getItem(k), now);
      if (events === undefined) continue;
      enqueue(events);
      ls!.removeItem(k);
    }
  } catch (e) {
    debug(e);
  }
}

function track(type: string, fields: Json, now = false): void {
  if (optedOut()) return;
  enqueue([
    {
      type,
      schemaVersion: 1,
      eventId: timeOrderedId(),
      readerId: readerId(),
      sessionId: sessionId(),
      timestamp: new Date().toISOString(),
      ...fields,
    },
  ]);
  if (now || pending.length >= FLUSH_BATCH) flush();
  else if (flushTimer === undefined) flushTimer = setTimeout(tick, FLUSH_DELAY_MS);
}

/** Posts the oldest batch, unless one is in flight or the backoff says wait; the answer's handler sends the next. */
function flush(): void {
  if (flushTimer !== undefined) clearTimeout(flushTimer);
  flushTimer = undefined;
  if (inFlight || optedOut()) return;
  adopt();
  if (pending.length === 0) return;
  const wait = retryTime() - Date.now();
  if (wait > 0) {
    flushTimer = setTimeout(tick, wait);
    return;
  }
  const batch = nextBatch(pending, FLUSH_BATCH, MAX_PAYLOAD_BYTES);
  const ids = batch.map((e) => e.eventId);
  inFlight = ids;
  let status = 0;
  let retryAfter: string | null = null;
  // A collector that accepts the connection and never answers must not hold the queue: give up, retry.
  const ctrl = typeof AbortController === 'function' ? new AbortController() : undefined;
  const timeout = ctrl ? setTimeout(() => ctrl.abort(), POST_TIMEOUT_MS) : undefined;
  // keepalive: the post outlives a navigation (a click's); text/plain: a CORS "simple" request, no preflight.
  // Wrapped in a promise so that a fetch throwing at once (missing, refused) is a failure like any other.
  new Promise<Response>((resolve) =>
    resolve(
      fetch(`${config.endpoint}/v1/events?sdk=readnext`, {
        method: 'POST',
        body: JSON.stringify({ events: batch }),
        keepalive: true,
        credentials: 'omit',
        headers: { 'content-type': 'text/plain' },
        signal: ctrl?.signal,
      }),
    ),
  )
    .then((res) => {
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      return res.json().catch(() => null);
    })
    .then(
      (body: unknown) => settle(outcome(status, body, ids), retryAfter, timeout),
      (e: unknown) => settle({ retry: true }, null, timeout, e),
    )
    .catch((e: unknown) => debug(e));
}

/** flush() for timers: nothing may escape into the host page. */
const tick = safe(flush, undefined);

function settle(
  o: ReturnType<typeof outcome>,
  retryAfter: string | null,
  timeout: ReturnType<typeof setTimeout> | undefined,
  error?: unknown,
): void {
  clearTimeout(timeout);
  inFlight = undefined;
  if ('retry' in o) {
    const delay = retryDelayMs(attempt++, Math.random(), retryAfter, Date.now());
    debug(`events not sent (${error ? String(error) : 'server busy'}); retry in ${Math.round(delay)} ms`);
    retryAt = Date.now() + delay;
    storageSet('localStorage', RETRY_KEY, String(retryAt));
    persist(); // also says this page is alive
    flushTimer = setTimeout(tick, delay);
    return;
  }
  attempt = retryAt = 0;
  storageRemove('localStorage', RETRY_KEY);
  const done = new Set(o.done);
  pending = pending.filter((e) => !done.has(e.eventId));
  persist();
  if (pending.length > 0) flush();
}

/**
 * The page goes away: beacon what is not in flight (a beacon gets no answer, so it stays queued)
 * and mark the record gone, for the next page of the site to send it again; ids dedupe.
 */
function beaconRest(): void {
  let rest = pending.filter((e) => !inFlight?.includes(e.eventId));
  while (rest.length > 0 && typeof nav.sendBeacon === 'function') {
    const batch = nextBatch(rest, MAX_QUEUE_EVENTS, MAX_PAYLOAD_BYTES);
    const body = new Blob([JSON.stringify({ events: batch })], { type: 'text/plain' });
    if (!nav.sendBeacon(`${config.endpoint}/v1/events?sdk=readnext`, body)) break; // the page's 64 KiB in-flight quota is used
    rest = rest.slice(batch.length);
  }
  persist(true);
}

// ---- page lifecycle: the last moment to measure and send

const hideHooks: (() => void)[] = [];

function onHide(gone: boolean): void {
  for (const h of hideHooks) {
    try {
      h();
    } catch (e) {
      debug(e);
    }
  }
  flush();
  // In a backoff (the collector is down or asked to wait) no beacon: the next page sends them.
  if (gone && !optedOut() && Date.now() >= retryTime()) beaconRest();
  else if (gone) persist(true);
}

try {
  w.addEventListener(
    'pagehide',
    safe(() => onHide(true), undefined),
  );
  // Back from the back-forward cache: this page is alive again, and its record says so.
  w.addEventListener(
    'pageshow',
    safe((e: PageTransitionEvent) => {
      if (!e.persisted) return;
      persist();
      flush();
    }, undefined),
  );
  document.addEventListener(
    'visibilitychange',
    safe(() => (document.visibilityState === 'hidden' ? onHide(false) : undefined), undefined),
  );
  // Events left by earlier pages (a navigation, a reload, an outage) go soon after this one loads,
  // once the page had its chance to call init() with another endpoint.
  setTimeout(tick, FLUSH_DELAY_MS);
} catch (e) {
  debug(e);
}

// ---- widget

/** Elements currently showing a slate, so a second render into the same element stops the first one's observer. */
const mounted = new WeakMap<Element, () => void>();
const impressed = new Set<string>();

function linkFor(item: Slate['items'][number]): string | undefined {
  const raw = config.linkTemplate ? config.linkTemplate.split('{id}').join(encodeURIComponent(item.articleId)) : item.url;
  if (!raw) return undefined;
  try {
    // Catalog URLs are data: only http(s) links, never javascript: or data: ones.
    const u = new URL(raw, location.href);
    return u.protocol === 'http:' || u.protocol === 'https:' ? raw : undefined;
  } catch {
    return undefined;
  }
}

function isSlate(v: unknown): v is Slate {
  const s = v as Slate | null;
  return typeof s === 'object' && s !== null && typeof s.recommId === 'string' && Array.isArray(s.items);
}

let widgetSeq = 0;

function render(el: Element, slate: Slate, opts: WidgetOptions): HTMLAnchorElement[] {
  const doc = el.ownerDocument;
  const root = doc.createElement('div');
  root.className = 'readnext-widget';
  root.setAttribute('data-recomm-id', slate.recommId);
  root.setAttribute('data-placement', slate.placement || opts.placement);
  const list = doc.createElement('ol');
  list.className = 'readnext-list';
  const title = opts.title ?? 'Read next';
  if (title) {
    const h = doc.createElement('h2');
    h.className = 'readnext-title';
    h.id = `readnext-title-${++widgetSeq}`;
    h.textContent = title;
    root.appendChild(h);
    list.setAttribute('aria-labelledby', h.id);
  } else {
    list.setAttribute('aria-label', 'Recommended articles');
  }
  const links: HTMLAnchorElement[] = [];
  for (const item of slate.items) {
    if (!item || typeof item.articleId !== 'string' || typeof item.title !== 'string' || typeof item.position !== 'number') continue;
    const href = linkFor(item);
    if (href === undefined) continue;
    const li = doc.createElement('li');
    li.className = 'readnext-item';
    const a = doc.createElement('a');
    a.className = 'readnext-link';
    a.href = href;
    a.textContent = item.title; // textContent, never innerHTML: titles are catalog data
    a.setAttribute('data-position', String(item.position));
    a.setAttribute('data-article-id', item.articleId);
    a.setAttribute('data-recomm-id', slate.recommId);
    if (typeof item.team === 'string') a.setAttribute('data-team', item.team);
    li.appendChild(a);
    list.appendChild(li);
    links.push(a);
  }
  root.appendChild(list);
  while (el.firstChild) el.removeChild(el.firstChild);
  el.appendChild(root);
  return links;
}

/**
 * Sends the impression once per recommId, when at least half of the widget has been visible for
 * one continuous second on a visible page. Returns the function that stops watching.
 */
function watchImpression(el: Element, send: () => void): () => void {
  if (typeof IntersectionObserver !== 'function') return () => undefined;
  let inView = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const update = () => {
    const ready = inView && document.visibilityState === 'visible';
    if (ready && timer === undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        stop();
        send();
      }, IMPRESSION_MS);
    } else if (!ready && timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
  };
  const io = new IntersectionObserver(
    (entries) => {
      for (const e of entries) inView = e.intersectionRatio >= IMPRESSION_RATIO;
      update();
    },
    { threshold: [0, IMPRESSION_RATIO] },
  );
  const onVisibility = () => update();
  const stop = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    io.disconnect();
    document.removeEventListener('visibilitychange', onVisibility);
  };
  io.observe(el);
  document.addEventListener('visibilitychange', onVisibility);
  return stop;
}

async function widget(target: Element | string | null, opts: WidgetOptions): Promise<void> {
  const el = typeof target === 'string' ? document.querySelector(target) : target;
  if (!el || !opts || typeof opts.placement !== 'string' || typeof opts.article !== 'string') {
    debug('widget: an element, a placement and an article are required');
    return;
  }
  const params = new URLSearchParams({ placement: opts.placement, article: opts.article });
  const out = optedOut();
  if (out) params.set('optout', '1');
  else {
    params.set('reader', readerId());
    params.set('session', sessionId());
  }
  if (typeof opts.k === 'number' && opts.k > 0) params.set('k', String(Math.floor(opts.k)));

  const ctrl = typeof AbortController === 'function' ? new AbortController() : undefined;
  const timeout = ctrl ? setTimeout(() => ctrl.abort(), FETCH_TIMEOUT_MS) : undefined;
  let slate: unknown;
  try {
    const res = await fetch(`${config.endpoint}/v1/recommendations?${params.toString()}`, { credentials: 'omit', signal: ctrl?.signal });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    slate = await res.json();
  } catch (e) {
    debug('no recommendations', e);
    return;
  } finally {
    if (timeout !== undefined) clearTimeout(timeout);
  }
  if (!isSlate(slate)) {
    debug('unexpected recommendation response');
    return;
  }
  const s = slate;
  mounted.get(el)?.();
  mounted.delete(el);
  const links = render(el, s, opts);
  if (links.length === 0) return;
  const placement = s.placement || opts.placement;

  const onClick = (ev: Event) => {
    if (ev.type === 'auxclick' && (ev as MouseEvent).button !== 1) return;
    const a = (ev.target as Element | null)?.closest?.('a[data-recomm-id]');
    if (!a || !el.contains(a)) return;
    const articleId = a.getAttribute('data-article-id') ?? '';
    const position = Number(a.getAttribute('data-position'));
    if (optedOut()) return;
    storageSet('sessionStorage', CLICK_KEY, JSON.stringify({ recommId: s.recommId, articleId, t: Date.now() }));
    // Flushed at once, by beacon: the page is about to navigate away.
    track('click', { recommId: s.recommId, articleId, position, placement }, true);
  };
  const handler = safe(onClick, undefined);
  el.addEventListener('click', handler);
  el.addEventListener('auxclick', handler);

  const items = links.map((a) => {
    const it: Json = { articleId: a.getAttribute('data-article-id'), position: Number(a.getAttribute('data-position')) };
    const team = a.getAttribute('data-team');
    if (team !== null) it.team = team;
    return it;
  });
  const stopWatching = optedOut()
    ? () => undefined
    : watchImpression(el, () => {
        if (impressed.has(s.recommId)) return;
        impressed.add(s.recommId);
        track('impression', {
          recommId: s.recommId,
          placement,
          articleId: opts.article,
          items,
          experiment: s.experiment ?? null,
          phase: s.phase ?? null,
          arm: s.arm ?? null,
          hashVersion: s.hashVersion ?? null,
          recommender: s.recommender ?? null,
          shadow: false,
        });
      });
  mounted.set(el, () => {
    stopWatching();
    el.removeEventListener('click', handler);
    el.removeEventListener('auxclick', handler);
  });
}

// ---- reads and page views

const clamp01 = (x: number) => (x > 1 ? 1 : x > 0 ? x : 0);
const cut = (s: string, n: number) => (s.length > n ? s.slice(0, n) : s);

function scrollFraction(el: Element | null | undefined): number {
  const vh = w.innerHeight || document.documentElement.clientHeight;
  if (el) {
    const r = el.getBoundingClientRect();
    return r.height <= 0 ? 1 : clamp01((vh - r.top) / r.height);
  }
  const total = Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0);
  return total <= 0 ? 1 : clamp01((w.scrollY + vh) / total);
}

/**
 * Measures one read of an article: milliseconds the page was visible and the deepest scroll
 * fraction. One read event per call, sent the first time the page is hidden (tab switch,
 * navigation, close) after the reader spent some visible time on it.
 */
function trackRead(opts: ReadOptions): void {
  if (!opts || typeof opts.article !== 'string' || optedOut()) return;
  const article = opts.article;
  let dwell = 0;
  let since = document.visibilityState === 'visible' ? Date.now() : undefined;
  let deepest = 0;
  let sent = false;
  const measure = () => {
    deepest = Math.max(deepest, scrollFraction(opts.element));
  };
  const onScroll = safe(measure, undefined);
  const onVisibility = () => {
    if (document.visibilityState === 'visible' && since === undefined) since = Date.now();
  };
  w.addEventListener('scroll', onScroll, { passive: true });
  document.addEventListener('visibilitychange', onVisibility);
  measure();
  hideHooks.push(() => {
    if (sent) return;
    if (since !== undefined) dwell += Date.now() - since;
    since = undefined;
    if (dwell <= 0) return;
    sent = true;
    measure();
    w.removeEventListener('scroll', onScroll);
    document.removeEventListener('visibilitychange', onVisibility);
    const fields: Json = {
      articleId: article,
      dwellMs: Math.min(Math.round(dwell), 86_400_000),
      scroll: Math.round(deepest * 1000) / 1000,
    };
    try {
      const click = JSON.parse(storageGet('sessionStorage', CLICK_KEY) ?? 'null') as {
        recommId?: unknown;
        articleId?: unknown;
        t?: unknown;
      } | null;
      if (
        click &&
        click.articleId === article &&
        typeof click.recommId === 'string' &&
        typeof click.t === 'number' &&
        Date.now() - click.t < CLICK_ATTRIBUTION_MS
      ) {
        fields.recommId = click.recommId;
      }
    } catch {
      // no attribution
    }
    track('read', fields);
  });
}

function pageView(opts?: PageViewOptions): void {
  const fields: Json = {
    url: cut(location.href, 2048),
    referrer: document.referrer ? cut(document.referrer, 2048) : null,
  };
  if (opts && typeof opts.article === 'string') fields.articleId = opts.article;
  else fields.page = cut(opts && typeof opts.page === 'string' ? opts.page : location.pathname || '/', 2048);
  track('page_view', fields);
}

// ---- public API

function init(opts?: InitOptions): void {
  if (!opts) return;
  if (typeof opts.endpoint === 'string' && opts.endpoint) config.endpoint = opts.endpoint.replace(/\/+$/, '');
  if (typeof opts.linkTemplate === 'string' && opts.linkTemplate) config.linkTemplate = opts.linkTemplate;
}

/** Stops all tracking for this reader, now and on later visits, and forgets their ids. */
function optOut(): void {
  optedOutInMemory = true;
  if (!storageSet('localStorage', OPTOUT_KEY, '1')) cookieSet(OPTOUT_KEY, '1', 400 * 24 * 3600);
  pending = [];
  persist();
  const ls = local();
  for (let i = (ls?.length ?? 0) - 1; i >= 0; i--) {
    const k = ls!.key(i);
    if (k && k.indexOf(QUEUE_PREFIX) === 0) ls!.removeItem(k); // other pages' unsent events too: nothing leaves
  }
  memoryReader = undefined;
  memorySession = undefined;
  storageRemove('localStorage', READER_KEY);
  storageRemove('sessionStorage', SESSION_KEY);
  storageRemove('sessionStorage', CLICK_KEY);
  if (cookieGet(READER_KEY) !== null) cookieSet(READER_KEY, '', 0);
}

/** Withdraws an earlier optOut(); a browser signal (Do Not Track, GPC) still counts. */
function optIn(): void {
  optedOutInMemory = false;
  storageRemove('localStorage', OPTOUT_KEY);
  if (cookieGet(OPTOUT_KEY) !== null) cookieSet(OPTOUT_KEY, '', 0);
}

const api = Object.freeze({
  version: '1',
  init: safe(init, undefined),
  widget: (target: Element | string | null, opts: WidgetOptions): Promise<void> => {
    try {
      return widget(target, opts).catch((e: unknown) => debug(e));
    } catch (e) {
      debug(e);
      return Promise.resolve();
    }
  },
  trackRead: safe(trackRead, undefined),
  pageView: safe(pageView, undefined),
  optOut: safe(optOut, undefined),
  optIn: safe(optIn, undefined),
  isOptedOut: safe(optedOut, true),
  /** Sends queued events now (also done automatically); waits out a backoff still running. */
  flush: safe(flush, undefined),
  /** This page's unsent events and how many the full queue dropped since the page loaded. */
  queue: safe(() => ({ pending: pending.length, dropped }), { pending: 0, dropped: 0 }),
});

export type ReadnextApi = typeof api;

// Loaded twice (two tags on one page): the first copy stays, so state is never split.
if (!w.readnext) w.readnext = api;
