import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterConfig } from '../config.js';
import { mrlError } from '../errors.js';
import { DB_FILE, restoreDatabase } from '../store/backup.js';
import { CLUSTER_KEY_HEADER } from './remote.js';

/**
 * A new node (no database yet, MRL_JOIN_FROM set) starts from a peer's online backup: its items
 * and, in the same file, how far the peer had applied each shard, so the node then follows the
 * log from there. Returns the items restored, or null when nothing was done.
 */
export async function joinFromPeer(dataDir: string, c: ClusterConfig): Promise<{ items: number } | null> {
  if (!c.joinFrom || existsSync(join(dataDir, DB_FILE))) return null;
  const res = await fetch(`${c.joinFrom}/cluster/backup`, { headers: { [CLUSTER_KEY_HEADER]: c.key } });
  if (!res.ok) throw mrlError('CLUSTER_UNAVAILABLE', `backup from ${c.joinFrom} failed: HTTP ${res.status}`);
  const tmp = mkdtempSync(join(tmpdir(), 'mrl-join-'));
  try {
    const file = join(tmp, 'backup.sqlite');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    mkdirSync(dataDir, { recursive: true });
    const r = await restoreDatabase(file, dataDir);
    return { items: r.items };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
