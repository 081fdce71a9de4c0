import type { AppContext } from '../context.js';
import type { Metrics } from './metrics.js';

/** What buildApp hands every route plugin: the opened context and the shared metrics. */
export type RouteDeps = { ctx: AppContext; metrics: Metrics };
