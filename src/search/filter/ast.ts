/**
 * A parsed metadata filter. Fields are an item's `id`, its `label`, or a payload path
 * (`payload.a.b`). Leaves compare one field with JSON scalars; `and`, `or` and `not` combine them.
 */
export type FilterField = { kind: 'id' } | { kind: 'label' } | { kind: 'payload'; path: string[] };
export type Scalar = string | number | boolean | null;
export type CompareOp = '$eq' | '$ne' | '$gt' | '$gte' | '$lt' | '$lte';

export type FilterNode =
  | { op: 'and' | 'or'; terms: FilterNode[] }
  | { op: 'not'; term: FilterNode }
  | { op: 'cmp'; field: FilterField; cmp: CompareOp; value: Scalar }
  | { op: 'in'; field: FilterField; values: Scalar[]; negate: boolean }
  | { op: 'exists'; field: FilterField; exists: boolean };

/** Nesting and size limits: deeper or larger filters are refused (INVALID_FILTER). */
export const MAX_FILTER_DEPTH = 8;
export const MAX_FILTER_TERMS = 256;
