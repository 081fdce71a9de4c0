import { Type, type Static } from '@sinclair/typebox';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({ code: Type.String(), message: Type.String() }),
  },
  { $id: 'ErrorBody' },
);

/** Vectors are arrays of JSON numbers: no coercion ("1", true, null are refused). */
export const Vector = Type.Array(Type.Number(), {
  minItems: 1,
  maxItems: 8192,
  description: 'exactly the collection dim numbers, finite as float32',
});

export const FunnelStep = Type.Object(
  { dims: Type.Integer({ minimum: 1 }), keep: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);

export const CollectionName = Type.String({ minLength: 1, maxLength: 64 });

export const errorResponses = {
  400: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  413: ErrorBody,
  415: ErrorBody,
  500: ErrorBody,
  503: ErrorBody,
};

export type TErrorBody = Static<typeof ErrorBody>;
