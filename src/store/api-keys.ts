import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { MrlError, mrlError } from '../errors.js';
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';

export const ROLES = ['read', 'write', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A stored key as anyone may see it: never the key, never its hash. */
export interface ApiKey {
  name: string;
  role: Role;
  /** The collections the key may see; null for all. */
  collections: string[] | null;
  createdAt: string;
  lastUsedAt: string | null;
}

interface Row {
  name: string;
  role: Role;
  collections: string | null;
  key_hash: Buffer;
  created_at: string;
  last_used_at: string | null;
}

export const BOOTSTRAP_KEY_NAME = 'bootstrap';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const COLLECTION_RE = /^.{1,64}$/su;
/** last_used_at is written at most this often per key: a write per request would cost an fsync each. */
const TOUCH_EVERY_MS = 60_000;

const sha256 = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();
const toKey = (r: Row): ApiKey => ({
  name: r.name,
  role: r.role,
  collections: r.collections === null ? null : (JSON.parse(r.collections) as string[]),
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
});

/** A key as a cluster shares it (src/cluster/key-sync.ts): the stored row but its last use, the SHA-256 hash in hex. */
export interface SharedKey {
  name: string;
  role: Role;
  collections: string[] | null;
  hash: string;
  createdAt: string;
}

/** 32 random bytes (256 bits), base64url, prefixed so that a leaked key is recognisable in logs and scanners. */
export function newKeySecret(): string {
  return `mrl_${randomBytes(32).toString('base64url')}`;
}

/**
 * API keys in SQLite (table api_keys): only SHA-256 hashes are stored. Every lookup reads the
 * table (a handful of rows), so a key revoked by another process (the CLI) stops working on
 * the next request, and compares each hash in constant time without stopping at a match.
 */
export class ApiKeyStore {
  private readonly touched = new Map<string, number>();
  /** The statements of every guarded request, prepared once. */
  private readonly countStmt: Statement;
  private readonly allStmt: Statement;
  private readonly touchStmt: Statement;
  constructor(private readonly db: Db) {
    this.countStmt = db.prepare('SELECT count(*) FROM api_keys').pluck();
    this.allStmt = db.prepare('SELECT * FROM api_keys');
    this.touchStmt = db.prepare('UPDATE api_keys SET last_used_at = ? WHERE name = ?');
  }

  count(): number {
    return this.countStmt.get() as number;
  }

  list(): ApiKey[] {
    return (this.db.prepare('SELECT * FROM api_keys ORDER BY name').all() as Row[]).map(toKey);
  }

  /** Makes a new key; the returned secret is the only copy there will ever be. */
  create(spec: { name: unknown; role: unknown; collections?: unknown }, secret = newKeySecret()): { key: ApiKey; secret: string } {
    const { name, role, collections } = checkSpec(spec);
    if (this.db.prepare('SELECT 1 FROM api_keys WHERE name = ?').get(name)) throw new MrlError('KEY_EXISTS', { name });
    const now = new Date().toISOString();
    this.db
      .prepare('INSERT INTO api_keys (name, role, collections, key_hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(name, role, collections === null ? null : JSON.stringify(collections), sha256(secret), now);
    return { key: { name, role, collections, createdAt: now, lastUsedAt: null }, secret };
  }

  /** Removes a key; false when there is none of that name. */
  revoke(name: string): boolean {
    this.touched.delete(name);
    return this.db.prepare('DELETE FROM api_keys WHERE name = ?').run(name).changes > 0;
  }

  /** MRL_ADMIN_KEY: an unscoped admin key named `bootstrap`, replaced when the variable changes. */
  bootstrap(secret: string): void {
    const hash = sha256(secret);
    this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT * FROM api_keys WHERE name = ?').get(BOOTSTRAP_KEY_NAME) as Row | undefined;
        if (row && row.role === 'admin' && row.collections === null && timingSafeEqual(row.key_hash, hash)) return;
        this.db.prepare('DELETE FROM api_keys WHERE name = ? OR key_hash = ?').run(BOOTSTRAP_KEY_NAME, hash);
        this.create({ name: BOOTSTRAP_KEY_NAME, role: 'admin' }, secret);
      })
      .immediate();
  }

  /** The key a secret belongs to, or null. Reads every row and compares every hash. */
  verify(secret: string): ApiKey | null {
    return this.lookup(secret).key;
  }

  /**
   * One read of the table answering a request's two questions: are there any keys (auth is on
   * with the first), and whose is `secret` (null without one or without a match).
   */
  lookup(secret: string | undefined): { any: boolean; key: ApiKey | null } {
    const rows = this.allStmt.all() as Row[];
    if (secret === undefined) return { any: rows.length > 0, key: null };
    const hash = sha256(secret);
    let found: Row | null = null;
    for (const row of rows) {
      if (row.key_hash.length === hash.length && timingSafeEqual(row.key_hash, hash) && found === null) found = row;
    }
    if (found !== null) this.touch(found.name);
    return { any: rows.length > 0, key: found && toKey(found) };
  }

  /** A new key checked as `create` checks it, but written nowhere: a cluster stores it first, then `put`s it. */
  draft(spec: { name: unknown; role: unknown; collections?: unknown }, secret = newKeySecret()): { shared: SharedKey; secret: string } {
    const { name, role, collections } = checkSpec(spec);
    if (this.db.prepare('SELECT 1 FROM api_keys WHERE name = ?').get(name)) throw new MrlError('KEY_EXISTS', { name });
    return { shared: { name, role, collections, hash: sha256(secret).toString('hex'), createdAt: new Date().toISOString() }, secret };
  }

  /** Stores a shared key as it is (by name; a row of another name with the same hash is the same secret and goes). */
  put(k: SharedKey): void {
    const hash = Buffer.from(k.hash, 'hex');
    if (hash.length !== 32 || !(ROLES as readonly string[]).includes(k.role))
      throw mrlError('INVALID_KEY', `shared key '${k.name}' is malformed`);
    this.db
      .transaction(() => {
        this.db.prepare('DELETE FROM api_keys WHERE key_hash = ? AND name <> ?').run(hash, k.name);
        this.db
          .prepare(
            `INSERT INTO api_keys (name, role, collections, key_hash, created_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET role = excluded.role, collections = excluded.collections,
               key_hash = excluded.key_hash, created_at = excluded.created_at`,
          )
          .run(k.name, k.role, k.collections === null ? null : JSON.stringify(k.collections), hash, k.createdAt);
      })
      .immediate();
  }

  /** Every stored key as a cluster shares it. */
  shared(): SharedKey[] {
    return (this.db.prepare('SELECT * FROM api_keys ORDER BY name').all() as Row[]).map((r) => {
      const { name, role, collections, createdAt } = toKey(r);
      return { name, role, collections, createdAt, hash: r.key_hash.toString('hex') };
    });
  }

  private touch(name: string): void {
    const now = Date.now();
    if (now - (this.touched.get(name) ?? 0) < TOUCH_EVERY_MS) return;
    this.touched.set(name, now);
    this.touchStmt.run(new Date(now).toISOString(), name);
  }
}

function checkSpec(spec: { name: unknown; role: unknown; collections?: unknown }): {
  name: string;
  role: Role;
  collections: string[] | null;
} {
  const { name, role, collections } = spec;
  if (typeof name !== 'string' || !NAME_RE.test(name))
    throw mrlError('INVALID_KEY', 'a key name is 1 to 64 letters, digits, _ . - (starting with a letter or digit)');
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role))
    throw mrlError('INVALID_KEY', `role must be one of ${ROLES.join(', ')}`);
  if (collections === undefined || collections === null) return { name, role: role as Role, collections: null };
  if (
    !Array.isArray(collections) ||
    collections.length === 0 ||
    collections.length > 1000 ||
    !collections.every((c) => typeof c === 'string' && COLLECTION_RE.test(c))
  ) {
    throw mrlError('INVALID_KEY', 'collections is a non-empty list of collection names, or absent for all');
  }
  return { name, role: role as Role, collections: [...new Set(collections as string[])] };
}
