import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import type { AxeResults } from 'axe-core';

// The accessibility check of issue 20: axe-core (the engine behind Lighthouse's and most CI
// accessibility audits) run inside the page as it is. The dashboard's Content-Security-Policy
// (script-src 'self') refuses inline scripts, so `page.addScriptTag` with axe's file, which Playwright
// inlines, is blocked there; the source is evaluated through the DevTools protocol instead, which a
// page's CSP does not govern. On pages without such a policy addScriptTag would do the same.

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The impacts the issue's "Done when" counts: no serious or critical violation on any page. */
const BLOCKING = new Set(['serious', 'critical']);

/**
 * Runs axe-core on the page (the whole document, WCAG 2.x A/AA rules and axe's best practices) and
 * returns its serious and critical violations as one line each: rule, impact, help and the first
 * offending elements. An empty list is a pass: `expect(await axeViolations(page)).toEqual([])`.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  // (This file is type-checked as Node code, without DOM types: the page's globals are reached through globalThis.)
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(() =>
    (globalThis as unknown as { axe: { run(o: object): Promise<AxeResults> } }).axe.run({ resultTypes: ['violations'] }),
  );
  return results.violations
    .filter((v) => BLOCKING.has(v.impact ?? ''))
    .map((v) => {
      const where = v.nodes
        .slice(0, 3)
        .map((n) => `${n.target.join(' ')}${n.failureSummary ? ` [${n.failureSummary.replace(/\s+/g, ' ').trim()}]` : ''}`)
        .join('; ');
      return `${v.id} (${v.impact}): ${v.help}, on ${v.nodes.length} element(s): ${where}`;
    });
}
