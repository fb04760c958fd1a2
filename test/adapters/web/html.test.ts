import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml, html, raw } from '../../../src/adapters/web/html.js';

describe('html', () => {
  it('escapes interpolated text, not the template', () => {
    expect(html`<p title="${'"x" & \'y\''}">${'<b>hi</b>'}</p>`.value).toBe(
      '<p title="&quot;x&quot; &amp; &#39;y&#39;">&lt;b&gt;hi&lt;/b&gt;</p>',
    );
  });

  it('nests templates, joins arrays and drops null, undefined and false', () => {
    const items = ['a<', 'b&'];
    expect(html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>${null}${undefined}${false}${0}`.value).toBe(
      '<ul><li>a&lt;</li><li>b&amp;</li></ul>0',
    );
  });

  it('inserts raw markup as is', () => {
    expect(html`<div>${raw('<br>')}</div>`.value).toBe('<div><br></div>');
  });

  it('escaped text never contains markup characters and decodes back', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (s) => {
        const e = escapeHtml(s);
        const back = e
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&quot;/g, '"')
          .replace(/&#39;/g, "'")
          .replace(/&amp;/g, '&');
        return !/[<>"']/.test(e) && back === s;
      }),
    );
  });
});
