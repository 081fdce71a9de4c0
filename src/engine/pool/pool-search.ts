import type { SearchOptions } from '../../search/options.js';
import { withRecallTarget } from '../../search/plan.js';
import type { Query } from '../../search/query.js';
import type { CollectionRecord } from '../../store/collections.js';
import type { EngineHooks } from '../hooks.js';
import type { RunResult } from '../search-run.js';
import type { SearchPool } from './search-pool.js';

/**
 * `Engine.search` on the pool: the recall target is resolved here (its resolver reads the
 * quality reports of this thread), the worker runs the search, and the hooks (the recall
 * audit) are told here of what it observed, as the in-thread path tells them.
 */
export async function searchOnPool(
  pool: SearchPool,
  hooks: EngineHooks,
  name: string,
  record: CollectionRecord,
  query: Query,
  opts: SearchOptions,
  observe: boolean,
): Promise<RunResult> {
  const resolved = withRecallTarget(record, opts, hooks.recallResolver);
  const observer = observe ? hooks.observer(name) : undefined;
  const { result, observed } = await pool.search(name, query, resolved, observer !== undefined);
  if (observer && observed) observer(observed.vector, observed.exclude, observed.plan, result);
  return result;
}
