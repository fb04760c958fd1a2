import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../src/core/kernel/errors.js';
import { DEFAULT_WORLD, parseWorld } from '../../../src/core/simulate/world.js';

const worldFile = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../../worlds/${name}.json`, import.meta.url), 'utf8'));

/** The DomainError parseWorld throws for `json`. */
function errorOf(json: unknown): DomainError {
  try {
    parseWorld(json);
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('parseWorld accepted the world');
}

describe('parseWorld', () => {
  it('gives the defaults for an empty world, and worlds/default.json is the defaults', () => {
    expect(parseWorld({})).toEqual(DEFAULT_WORLD);
    expect(parseWorld(worldFile('default'))).toEqual(DEFAULT_WORLD);
  });

  it('merges objects field by field over the defaults', () => {
    const w = parseWorld({ readers: { count: 123 }, clickModel: { positionBias: [1, 0.5, 0.25, 0.1] } });
    expect(w.readers.count).toBe(123);
    expect(w.readers.interestConcentration).toBe(DEFAULT_WORLD.readers.interestConcentration);
    expect(w.clickModel.positionBias).toEqual([1, 0.5, 0.25, 0.1]);
    expect(w.clickModel.baseRate).toBe(DEFAULT_WORLD.clickModel.baseRate);
  });

  it.each(['default', 'null', 'tie', 'small-effect'])('parses worlds/%s.json', (name) => {
    expect(parseWorld(worldFile(name)).name).toBe(name);
  });

  it.each([
    [{ readers: { count: 0 } }, 'invalid_field', 'readers.count'],
    [{ readers: { count: 2.5 } }, 'invalid_field', 'readers.count'],
    [{ days: '7' }, 'invalid_field', 'days'],
    [{ startDate: '2026-01-05' }, 'invalid_field', 'startDate'],
    [{ clickModel: { positionBias: [1, 0.5, 0.3, 1.5] } }, 'invalid_field', 'clickModel.positionBias[3]'],
    [{ clickModel: { positionBias: [1, 0.5] } }, 'invalid_field', 'clickModel.positionBias'],
    [{ readers: { hourlyProfile: [1, 2, 3] } }, 'invalid_field', 'readers.hourlyProfile'],
    [
      {
        articles: {
          sections: [
            { name: 'A', share: 1, topics: 2 },
            { name: 'B', share: -1, topics: 2 },
          ],
        },
      },
      'invalid_field',
      'articles.sections[1].share',
    ],
    [{ articles: { sections: [{ name: 'A', share: 1 }] } }, 'invalid_field', 'articles.sections[0].topics'],
    [{ sessions: { sources: { home: { share: 0.9 } } } }, 'invalid_field', 'sessions.sources'],
    [{ revenue: { currency: 'euro' } }, 'invalid_field', 'revenue.currency'],
    [{ reader: { count: 5 } }, 'unknown_field', 'reader'],
    [{ readers: { visitsPerWeek: { mean: 2 } } }, 'unknown_field', 'readers.visitsPerWeek.mean'],
    [{ articles: { sections: [{ name: 'A', share: 1, topics: 2, colour: 'red' }] } }, 'unknown_field', 'articles.sections[0].colour'],
  ])('rejects %j naming the field', (json, code, field) => {
    const e = errorOf(json);
    expect(e.code).toBe(code);
    expect(e.field).toBe(field);
    expect(e.message).toContain(field);
  });

  it("checks the experiment as `readnext experiment create` does, with paths under 'experiment'", () => {
    const arms = (kind: string) => [
      { name: 'a', recommender: { kind: 'latest', version: '1' } },
      { name: 'b', recommender: { kind, version: '1' } },
    ];
    const exp = (x: Record<string, unknown>) => ({ experiment: { id: 'x', placement: 'read-next', arms: arms('popular'), ...x } });
    expect(errorOf({ experiment: { id: 'x', placement: 'read-next', arms: arms('magic') } }).field).toBe(
      'experiment.arms[1].recommender.kind',
    );
    expect(errorOf(exp({ arms: [{ name: 'a', recommender: { kind: 'latest', version: '1' }, weight: 2 }, arms('none')[1]] })).field).toBe(
      'experiment.arms[0].weight',
    );
    expect(errorOf(exp({ colour: 1 }))).toMatchObject({ code: 'unknown_field', field: 'experiment.colour' });
    expect(errorOf(exp({ placement: 'sidebar' })).field).toBe('experiment.placement');
    expect(
      errorOf({
        experiment: {
          id: 'x',
          placement: 'read-next',
          arms: [arms('none')[0], { name: 'b', recommender: { kind: 'popular', version: '1', params: { halfLifeMinutes: 0 } } }],
        },
      }).field,
    ).toBe('experiment.arms[1].recommender.params.halfLifeMinutes');
  });

  it('rejects what is not an object', () => {
    expect(errorOf([]).code).toBe('invalid_field');
    expect(errorOf({ placement: 'read-next' }).field).toBe('placement');
  });
});
