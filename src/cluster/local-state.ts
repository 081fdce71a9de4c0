import type { Db } from '../store/db.js';

export interface LocalLayout {
  uid: string;
  shards: number;
  replicas: number;
}

/** This node's cluster tables (migration 007): each collection's cluster identity and the applied log positions. */
export class LocalState {
  constructor(private readonly db: Db) {}

  layout(name: string): LocalLayout | undefined {
    return this.db.prepare('SELECT uid, shards, replicas FROM cluster_collections WHERE name = ?').get(name) as LocalLayout | undefined;
  }

  names(): string[] {
    return this.db.prepare('SELECT name FROM cluster_collections').pluck().all() as string[];
  }

  setLayout(name: string, l: LocalLayout): void {
    this.db
      .prepare('INSERT OR REPLACE INTO cluster_collections (name, uid, shards, replicas) VALUES (?, ?, ?, ?)')
      .run(name, l.uid, l.shards, l.replicas);
  }

  /** Forgets a collection's identity and log positions (after the local collection was dropped). */
  forget(name: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM cluster_collections WHERE name = ?').run(name);
      this.db.prepare('DELETE FROM cluster_applied WHERE collection = ?').run(name);
    })();
  }

  applied(name: string, shard: number): number {
    return (
      (this.db.prepare('SELECT seq FROM cluster_applied WHERE collection = ? AND shard = ?').pluck().get(name, shard) as
        number | undefined) ?? 0
    );
  }

  forgetShard(name: string, shard: number): void {
    this.db.prepare('DELETE FROM cluster_applied WHERE collection = ? AND shard = ?').run(name, shard);
  }
}
