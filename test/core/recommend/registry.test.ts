/** The recommender registry: kinds registered once, configs validated without state, artifacts prepared before building. */
import { describe, expect, it } from 'vitest';
import { BUILTIN_KINDS, builtinRegistry } from '../../../src/core/recommend/kinds/index.js';
import { artifactKey, defineKind, kindsMarkdown, RecommenderRegistry } from '../../../src/core/recommend/registry.js';
import { domainError, freshState } from './helpers.js';

const picks = defineKind({
  kind: 'picks',
  doc: 'a list | with a pipe',
  params: { n: { type: 'integer', default: 2, min: 1, max: 5, unit: 'items', doc: 'how many' } },
  prepare: async ({ version }) => [`${version}-a`, `${version}-b`, `${version}-c`],
  create: ({ kind, version, params }, _state, ids: string[]) => ({
    kind,
    version,
    recommend: (ctx, limit) => ids.slice(0, Math.min(limit, params.n)).map((articleId) => ({ articleId, score: 1, reason: 'picked' })),
  }),
});

describe('RecommenderRegistry', () => {
  it('refuses a kind registered twice, and a name a deployment could not spell', () => {
    expect(() => builtinRegistry().register(BUILTIN_KINDS[0]!)).toThrow('recommender kind "none" is already registered');
    expect(() => new RecommenderRegistry().register({ ...picks, kind: 'Picks' })).toThrow(/a kind name is/);
    expect(
      builtinRegistry()
        .kinds()
        .map((k) => k.kind),
    ).toEqual(['none', 'latest', 'popular', 'same-section', 'co-read']);
  });

  it('validates without any state: defaults applied, errors name the field', () => {
    const r = builtinRegistry();
    expect(r.validate({ kind: 'popular', version: '2', params: { halfLifeMinutes: 20 } })).toEqual({
      kind: 'popular',
      version: '2',
      params: { halfLifeMinutes: 20, readWeight: 1, clickWeight: 1 },
    });
    const e = domainError(() => r.validate({ kind: 'picks', version: '1' }));
    expect([e.code, e.field, e.message]).toEqual([
      'invalid_field',
      'kind',
      'unknown recommender kind "picks"; known: none, latest, popular, same-section, co-read',
    ]);
    expect(domainError(() => r.validate({ kind: 'latest', version: 'x'.repeat(65) })).field).toBe('version');
  });

  it('builds a kind with an artifact only once it is prepared', async () => {
    const r = builtinRegistry().register(picks);
    const config = { kind: 'picks', version: '7', params: { n: 2 } };
    const state = freshState([]);
    expect(r.needsArtifact(config)).toBe(true);
    expect(r.needsArtifact({ kind: 'latest', version: '1' })).toBe(false);
    expect(() => r.build(config, state)).toThrow('recommender picks@7 needs its artifact: prepare it first');
    const built = r.build(config, state, await r.prepare(config));
    expect(built.recommend({} as never, 10).map((c) => c.articleId)).toEqual(['7-a', '7-b']);
    expect(await r.prepare({ kind: 'latest', version: '1' })).toBeUndefined();
    await expect(r.prepare({ kind: 'picks', version: '7', params: { n: 9 } })).rejects.toMatchObject({
      code: 'invalid_field',
      field: 'params.n',
    });
  });

  it('keys an artifact by kind, version and params with their defaults', () => {
    const r = builtinRegistry().register(picks);
    const key = (params?: Record<string, unknown>, version = '1') => artifactKey(r.validate({ kind: 'picks', version, params }));
    expect(key()).toBe(key({ n: 2 }));
    expect(key()).not.toBe(key({ n: 3 }));
    expect(key()).not.toBe(key(undefined, '2'));
  });

  it('renders the kinds as a markdown table, with units and ranges, pipes escaped', () => {
    expect(kindsMarkdown([picks])).toBe(
      '| kind | what it recommends | params (default, range): what they do |\n|---|---|---|\n| `picks` | a list \\| with a pipe | `n` (2 items, integer 1 to 5): how many |\n',
    );
  });
});
