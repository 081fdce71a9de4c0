import { loadConfig, type Config } from '../config.js';
import { AppContext } from '../context.js';

export function cliConfig(dataDir: string | undefined): Config {
  return loadConfig(process.env, dataDir ? { dataDir } : {});
}

/** Opens the same context the server opens, runs `fn`, and closes it whatever happens. */
export async function withContext<T>(dataDir: string | undefined, fn: (ctx: AppContext) => Promise<T>): Promise<T> {
  const ctx = await AppContext.fromConfig(cliConfig(dataDir));
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

export const print = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
