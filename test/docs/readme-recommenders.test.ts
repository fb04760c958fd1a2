/** The README's recommender table is generated from the registry (`readnext recommenders --markdown`), never edited by hand. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILTIN_KINDS } from '../../src/core/recommend/kinds/index.js';
import { kindsMarkdown } from '../../src/core/recommend/registry.js';
import { runCli } from '../../src/adapters/cli/program.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { cliDeps } from '../../src/main/cli-deps.js';
import { appRecommenders } from '../../src/main/recommenders.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe("the README's recommender table", () => {
  it('is the markdown the registry renders, between its markers', () => {
    const m = /<!-- recommenders:start -->\n([\s\S]*?)<!-- recommenders:end -->/.exec(README);
    expect(m, 'README.md has no <!-- recommenders:start --> ... <!-- recommenders:end --> block').not.toBeNull();
    // On a mismatch: paste the output of `readnext recommenders --markdown` between the markers.
    expect(m![1]).toBe(kindsMarkdown(appRecommenders().kinds()));
  });

  it('is what `readnext recommenders --markdown` prints', async () => {
    const out: string[] = [];
    const code = await runCli(cliDeps({ out: (l) => out.push(l), err: (l) => out.push(l), isTty: false, clock: fixedClock(0), env: {} }), [
      'recommenders',
      '--markdown',
    ]);
    expect(code).toBe(0);
    expect(`${out.join('\n')}\n`).toBe(kindsMarkdown(appRecommenders().kinds()));
  });

  it('lists every built-in kind, each with every param', () => {
    const md = kindsMarkdown(BUILTIN_KINDS);
    for (const k of BUILTIN_KINDS) {
      expect(md).toContain(`| \`${k.kind}\` |`);
      for (const name of Object.keys(k.params)) expect(md).toContain(`\`${name}\` (`);
    }
  });
});
