import { DomainError } from '../kernel/errors.js';

/** A numeric parameter: its default, bounds and unit, for validation and documentation. */
export interface NumberParam {
  type: 'number' | 'integer';
  default: number;
  min: number;
  max: number;
  unit?: string;
  doc: string;
}
export interface EnumParam<T extends string = string> {
  type: 'enum';
  default: T;
  values: readonly T[];
  doc: string;
}
export interface BoolParam {
  type: 'boolean';
  default: boolean;
  doc: string;
}
export type ParamSpec = NumberParam | EnumParam | BoolParam;

/** The values of a params spec once read: booleans, enum strings and numbers. */
export type ParamValues<S extends Record<string, ParamSpec>> = {
  [K in keyof S]: S[K] extends BoolParam ? boolean : S[K] extends EnumParam<infer T> ? T : number;
};

/**
 * Applies defaults and checks every parameter of a recommender config; unknown parameters are
 * errors naming them (a typo must not silently deploy the defaults).
 */
export function readParams<S extends Record<string, ParamSpec>>(
  kind: string,
  specs: S,
  given: Record<string, unknown> | undefined,
): ParamValues<S> {
  const out: Record<string, unknown> = {};
  const input = given ?? {};
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new DomainError('invalid_field', `${kind}: params must be an object`, { field: 'params' });
  for (const k of Object.keys(input)) {
    if (!(k in specs))
      throw new DomainError('unknown_field', `${kind}: unknown parameter "${k}"; known: ${Object.keys(specs).join(', ') || 'none'}`, {
        field: `params.${k}`,
      });
  }
  for (const [k, spec] of Object.entries(specs)) {
    const v = input[k];
    const field = `params.${k}`;
    if (v === undefined) {
      out[k] = spec.default;
      continue;
    }
    if (spec.type === 'boolean') {
      if (typeof v !== 'boolean') throw new DomainError('invalid_field', `${kind}: ${k} must be a boolean`, { field });
    } else if (spec.type === 'enum') {
      if (typeof v !== 'string' || !spec.values.includes(v))
        throw new DomainError('invalid_field', `${kind}: ${k} must be one of ${spec.values.join(', ')}`, { field });
    } else {
      if (
        typeof v !== 'number' ||
        !Number.isFinite(v) ||
        (spec.type === 'integer' && !Number.isInteger(v)) ||
        v < spec.min ||
        v > spec.max
      ) {
        throw new DomainError(
          'invalid_field',
          `${kind}: ${k} must be ${spec.type === 'integer' ? 'an integer' : 'a number'} in [${spec.min}, ${spec.max}]${spec.unit ? ` (${spec.unit})` : ''}`,
          { field },
        );
      }
    }
    out[k] = v;
  }
  return out as never;
}
