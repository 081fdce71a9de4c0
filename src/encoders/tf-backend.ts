import * as tf from '@tensorflow/tfjs';

export type TfBackend = 'tensorflow' | 'wasm' | 'cpu';
export interface TfInit {
  backend: TfBackend;
  tried: { backend: TfBackend; error: string }[];
}

let init: Promise<TfInit> | undefined;

/**
 * Chooses TensorFlow.js's backend once per process: `@tensorflow/tfjs-node-gpu` when it is
 * installed and loads (an optional dependency: it downloads libtensorflow at install, so it is
 * absent on offline hosts), else the wasm backend, else plain JS (cpu). `prefer` skips the
 * ones before it.
 */
export function initTf(prefer: TfBackend = 'tensorflow'): Promise<TfInit> {
  init ??= (async () => {
    const order: TfBackend[] = ['tensorflow', 'wasm', 'cpu'];
    const tried: TfInit['tried'] = [];
    for (const backend of order.slice(order.indexOf(prefer))) {
      try {
        if (backend === 'tensorflow') {
          const name = '@tensorflow/tfjs-node-gpu'; // a variable: TypeScript must not require it to exist
          await import(name);
        } else if (backend === 'wasm') {
          await import('@tensorflow/tfjs-backend-wasm');
        }
        if (!(await tf.setBackend(backend))) throw new Error('setBackend returned false');
        await tf.ready();
        return { backend, tried };
      } catch (err) {
        tried.push({ backend, error: err instanceof Error ? err.message.split('\n')[0] : String(err) });
      }
    }
    throw new Error(`no TensorFlow.js backend could start: ${JSON.stringify(tried)}`);
  })();
  return init;
}

export { tf };
