import { mrlError } from '../errors.js';
import type { FunnelStep } from './options.js';

/** The MRL paper's funnel: 16→32→64→128→256→D keeping 200→100→50→25→10 (section 4.3). */
export function paperFunnel(dim: number): FunnelStep[] {
  const dims = [16, 32, 64, 128, 256].filter((d) => d < dim);
  const keeps = [200, 100, 50, 25, 10];
  return [...dims.map((d, i) => ({ dims: d, keep: keeps[i] })), { dims: dim, keep: 10 }];
}

/** A funnel written as `paper` or `dims:keep,dims:keep,…` (CLI flags, query strings). */
export function parseFunnelSpec(spec: string, dim: number): FunnelStep[] {
  if (spec === 'paper') return paperFunnel(dim);
  return spec.split(',').map((p) => {
    const m = /^(\d+):(\d+)$/.exec(p.trim());
    if (!m) throw mrlError('INVALID_SEARCH', `funnel '${spec}': each step is dims:keep (e.g. 16:200,64:50,${dim}:10) or 'paper'`);
    return { dims: Number(m[1]), keep: Number(m[2]) };
  });
}
