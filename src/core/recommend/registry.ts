import { DomainError } from '../kernel/errors.js';
import type { FreshState } from './fresh-state.js';
import { readParams, type ParamSpec, type ParamValues } from './params.js';
import type { Recommender, RecommenderConfig } from './types.js';

/** A recommender config whose version and params were checked; params carry their defaults. */
export interface ValidConfig<P = Readonly<Record<string, unknown>>> {
  kind: string;
  version: string;
  params: P;
}

/**
 * A kind of recommender as the registry holds it: its name, a one-line doc, its params (validated
 * and documented from the same spec), `create` and, for kinds that load a versioned artifact (a
 * learned model), an async `prepare`. Write one with `defineKind`, which types the params.
 */
export interface RecommenderKind {
  readonly kind: string;
  /** One line for the README's recommender table and `readnext recommenders`. */
  readonly doc: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  /**
   * Builds the recommender on `state` (live, replayed or simulated). Synchronous: anything slow
   * belongs in `prepare`. `artifact` is what `prepare` returned (undefined for kinds without one).
   */
  create(config: ValidConfig, state: FreshState, artifact: unknown): Recommender;
  /**
   * Loads what `create` needs and cannot build from the state (a trained model). Its result is
   * kept and reused while the config's kind, version and params stay the same (`artifactKey`).
   */
  prepare?(config: ValidConfig): Promise<unknown>;
}

/** A kind definition with its params typed from their spec (see `defineKind`). */
export interface KindDefinition<S extends Record<string, ParamSpec>, A> {
  kind: string;
  doc: string;
  params: S;
  create(config: ValidConfig<ParamValues<S>>, state: FreshState, artifact: A): Recommender;
  prepare?(config: ValidConfig<ParamValues<S>>): Promise<A>;
}

/**
 * Declares a recommender kind; `create` and `prepare` see their params typed from the spec.
 *
 * @example
 * const picks = defineKind({
 *   kind: 'editors-picks', doc: 'a fixed list chosen by the desk',
 *   params: { max: { type: 'integer', default: 3, min: 1, max: 10, doc: 'items shown' } },
 *   create: (c) => ({ kind: c.kind, version: c.version, recommend: () => [] }),
 * });
 */
export function defineKind<const S extends Record<string, ParamSpec>, A = undefined>(def: KindDefinition<S, A>): RecommenderKind {
  // The registry calls create and prepare only with params read through this same spec
  // (RecommenderRegistry.validate) and with the artifact this prepare returned, so the typed
  // definition is the untyped one.
  return def as unknown as RecommenderKind;
}

const KIND_NAME = /^[a-z][a-z0-9-]{0,63}$/;

/** The key an artifact is cached under: the same kind, version and params (defaults applied) share one. */
export function artifactKey(config: ValidConfig): string {
  return JSON.stringify([config.kind, config.version, config.params]);
}

/**
 * The recommender kinds a process knows, registered by `main`. Validating a config needs no state
 * (the admin side); building one takes the state as a parameter, so the same config builds on the
 * live state, a replayed one or a simulated one.
 *
 * @example
 * const registry = new RecommenderRegistry().register(...BUILTIN_KINDS);
 * registry.validate({ kind: 'popular', version: '2', params: { halfLifeMinutes: 20 } });
 * const artifact = await registry.prepare(config); // only kinds with an artifact do any work
 * const r = registry.build(config, state, artifact);
 */
export class RecommenderRegistry {
  private readonly byKind = new Map<string, RecommenderKind>();

  /** Adds kinds; a name already registered is refused (two kinds must never answer to one name). */
  register(...kinds: RecommenderKind[]): this {
    for (const k of kinds) {
      if (!KIND_NAME.test(k.kind))
        throw new Error(`recommender kind "${k.kind}": a kind name is 1 to 64 of a-z, 0-9 and "-", starting with a letter`);
      if (this.byKind.has(k.kind)) throw new Error(`recommender kind "${k.kind}" is already registered`);
      this.byKind.set(k.kind, k);
    }
    return this;
  }

  /** The registered kinds, in the order they were registered. */
  kinds(): RecommenderKind[] {
    return [...this.byKind.values()];
  }

  get(kind: string): RecommenderKind | undefined {
    return this.byKind.get(kind);
  }

  /**
   * Checks a config and applies the params' defaults; bad configs throw a DomainError naming the
   * field (`version`, `kind`, `params`, `params.<name>`).
   */
  validate(config: RecommenderConfig): ValidConfig {
    const { kind, version } = config;
    if (typeof version !== 'string' || version.length === 0 || version.length > 64) {
      throw new DomainError('invalid_field', 'a recommender needs a version string of 1 to 64 characters', { field: 'version' });
    }
    const def = this.byKind.get(kind);
    if (!def)
      throw new DomainError('invalid_field', `unknown recommender kind "${kind}"; known: ${[...this.byKind.keys()].join(', ')}`, {
        field: 'kind',
      });
    return { kind, version, params: readParams(kind, def.params, config.params) };
  }

  /** True when the config's kind loads an artifact (`prepare`) before it can be built. */
  needsArtifact(config: RecommenderConfig): boolean {
    return this.byKind.get(config.kind)?.prepare !== undefined;
  }

  /** Validates the config and loads its artifact (undefined for kinds without one). */
  async prepare(config: RecommenderConfig): Promise<unknown> {
    const valid = this.validate(config);
    const def = this.byKind.get(valid.kind)!;
    return def.prepare ? def.prepare(valid) : undefined;
  }

  /** Builds a recommender on `state`, with the artifact `prepare` returned for this config. */
  build(config: RecommenderConfig, state: FreshState, artifact?: unknown): Recommender {
    const valid = this.validate(config);
    const def = this.byKind.get(valid.kind)!;
    if (def.prepare && artifact === undefined)
      throw new Error(`recommender ${valid.kind}@${valid.version} needs its artifact: prepare it first`);
    return def.create(valid, state, artifact);
  }
}

const escapeCell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function paramLine(name: string, p: ParamSpec): string {
  const unit = p.type !== 'boolean' && p.type !== 'enum' && p.unit ? ` ${p.unit}` : '';
  const range =
    p.type === 'enum'
      ? `, one of ${p.values.map((v) => `\`${v}\``).join(', ')}`
      : p.type === 'boolean'
        ? ''
        : `, ${p.type === 'integer' ? 'integer ' : ''}${p.min} to ${p.max}`;
  const def = p.type === 'enum' ? `\`${p.default}\`` : String(p.default);
  return `\`${name}\` (${def}${unit}${range}): ${p.doc}`;
}

/**
 * The registered kinds as a markdown table: kind, what it recommends, params with default, range
 * and unit. The README's recommender table is this output (test/docs/readme-recommenders.test.ts).
 */
export function kindsMarkdown(kinds: readonly RecommenderKind[]): string {
  const rows = kinds.map((k) => {
    const params = Object.entries(k.params).map(([n, p]) => paramLine(n, p));
    return `| \`${k.kind}\` | ${escapeCell(k.doc)} | ${params.length ? escapeCell(params.join('<br>')) : 'none'} |`;
  });
  return ['| kind | what it recommends | params (default, range): what they do |', '|---|---|---|', ...rows].join('\n') + '\n';
}
