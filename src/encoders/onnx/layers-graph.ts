import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder, readTfjsWeights, type Weight } from './graph-builder.js';

/**
 * A TF.js layers model (model.json + weights, as `mrl train` writes them) appended to an ONNX
 * graph: the layer types our models use (InputLayer, Rescaling, Flatten, Dense with
 * linear/relu/tanh/sigmoid, Add), Sequential or functional. Anything else is refused, so a
 * retrained model with a new layer type falls back to TF.js instead of computing something else.
 */

interface LayerJson {
  class_name: string;
  config: Record<string, unknown> & { name: string };
  inbound_nodes?: unknown[];
}

const ACTIVATIONS: Record<string, string | null> = { linear: null, relu: 'Relu', tanh: 'Tanh', sigmoid: 'Sigmoid' };

export interface LayersModelJson {
  modelTopology: { class_name?: string; config: { layers: LayerJson[]; output_layers?: unknown[] } };
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
}

export function readLayersModel(dir: string): { json: LayersModelJson; weights: Map<string, Weight> } {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as LayersModelJson;
  const weights = new Map<string, Weight>();
  for (const [name, w] of readTfjsWeights(dir, json)) {
    if (!(w.data instanceof Float32Array)) throw new Error(`${dir}: weight ${name} is not float32`);
    weights.set(name, { shape: w.shape, data: w.data });
  }
  return { json, weights };
}

/** Inbound layer names of a functional layer (tfjs format: [[[name, nodeIndex, tensorIndex, kwargs], ...]]). */
function inbound(layer: LayerJson): string[] {
  const nodes = layer.inbound_nodes as [string, number, number][][] | undefined;
  if (!nodes || nodes.length === 0) return [];
  if (nodes.length !== 1) throw new Error(`layer ${layer.config.name}: shared layers are not supported`);
  return nodes[0].map((n) => n[0]);
}

/** Appends the model's layers reading `input`; returns the output value's name. */
export function appendLayersModel(g: GraphBuilder, model: { json: LayersModelJson; weights: Map<string, Weight> }, input: string): string {
  const layers = model.json.modelTopology.config.layers;
  const functional = layers.some((l) => (l.inbound_nodes?.length ?? 0) > 0);
  const values = new Map<string, string>();
  const weight = (name: string): Weight => {
    const w = model.weights.get(name);
    if (!w) throw new Error(`missing weight ${name}`);
    return w;
  };
  let last = input;
  for (const layer of layers) {
    const cfg = layer.config;
    const ins = functional
      ? inbound(layer).map(
          (n) =>
            values.get(n) ??
            (() => {
              throw new Error(`layer ${cfg.name}: unknown input ${n}`);
            })(),
        )
      : [last];
    let out: string;
    switch (layer.class_name) {
      case 'InputLayer':
        out = input;
        break;
      case 'Rescaling': {
        out = g.op('Mul', [ins[0], g.scalar(Number(cfg.scale))]);
        if (Number(cfg.offset ?? 0) !== 0) out = g.op('Add', [out, g.scalar(Number(cfg.offset))]);
        break;
      }
      case 'Flatten':
        out = g.op('Reshape', [ins[0], g.int64([0, -1])]);
        break;
      case 'Dense': {
        const activation = cfg.activation ?? 'linear';
        const act = typeof activation === 'string' ? ACTIVATIONS[activation] : undefined;
        if (act === undefined) throw new Error(`layer ${cfg.name}: activation ${JSON.stringify(activation)} is not supported`);
        out = g.matmulBias(ins[0], weight(`${cfg.name}/kernel`), cfg.use_bias === false ? undefined : weight(`${cfg.name}/bias`));
        if (act) out = g.op(act, [out]);
        break;
      }
      case 'Add':
        out = ins.slice(1).reduce((acc, x) => g.op('Add', [acc, x]), ins[0]);
        break;
      default:
        throw new Error(`layer ${cfg.name}: ${layer.class_name} is not supported by the ONNX converter`);
    }
    values.set(cfg.name, out);
    last = out;
  }
  const outputs = model.json.modelTopology.config.output_layers as [string, number, number][] | undefined;
  if (functional && outputs) {
    if (outputs.length !== 1) throw new Error(`${outputs.length} outputs; one is supported`);
    return values.get(outputs[0][0]) ?? last;
  }
  return last;
}
