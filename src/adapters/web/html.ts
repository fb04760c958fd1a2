/**
 * A tiny tagged template for server-rendered HTML: every interpolated value is escaped unless it
 * is itself `Html` (the result of another `html` template or of `raw`). Arrays are joined, and
 * `null`, `undefined` and `false` render nothing, so conditionals and lists read naturally.
 *
 * @example
 * html`<h1>${article.title}</h1>${tags.map((t) => html`<li>${t}</li>`)}`.value
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(v: HtmlValue): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return (v as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** Trusted markup written by us (never catalog data), inserted as is. */
export const raw = (markup: string): Html => new Html(markup);
