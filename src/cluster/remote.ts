import { ERRORS, MrlError, type ErrorCode } from '../errors.js';

export const CLUSTER_KEY_HEADER = 'x-mrl-cluster-key';

/** A peer's coded answer (4xx/5xx), or that it did not answer. */
export class RemoteError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }

  /** The peer's error as ours when the code is one of ours (a 4xx is the client's fault wherever it happened). */
  toMrl(): MrlError | null {
    return this.code in ERRORS ? Object.assign(new MrlError(this.code as ErrorCode), { message: this.message }) : null;
  }
}

/** One node-to-node request (JSON), authenticated with the cluster key, bounded by `timeoutMs`. */
export async function callNode<T>(url: string, path: string, key: string, timeoutMs: number, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { [CLUSTER_KEY_HEADER]: key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new RemoteError('UNREACHABLE', 0, `${url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) {
    let e = { code: 'HTTP_' + res.status, message: text.slice(0, 200) };
    try {
      e = (JSON.parse(text) as { error: typeof e }).error ?? e;
    } catch {
      // not our error body
    }
    throw new RemoteError(e.code, res.status, e.message);
  }
  return JSON.parse(text) as T;
}
