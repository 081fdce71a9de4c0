import { Type } from '@sinclair/typebox';
import { CollectionName } from './common.js';

const Role = Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('admin')]);
const KeyName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' });

export const CreateKeyBody = Type.Object(
  {
    name: KeyName,
    role: Role,
    collections: Type.Optional(
      Type.Union([Type.Array(CollectionName, { minItems: 1, maxItems: 1000 }), Type.Null()], {
        description: 'the collections the key may see; absent or null for all',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ApiKeyInfo = Type.Object({
  name: Type.String(),
  role: Role,
  collections: Type.Union([Type.Array(Type.String()), Type.Null()]),
  createdAt: Type.String(),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
});

export const CreatedKey = Type.Object({
  name: Type.String(),
  role: Role,
  collections: Type.Union([Type.Array(Type.String()), Type.Null()]),
  key: Type.String({ description: 'the key itself: shown this once, only its SHA-256 is stored' }),
});

export const KeyParams = Type.Object({ name: KeyName });
