import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLOAT, floatInitializer, int64Initializer, model, node, tensorInfo, type Attr, type Dim } from '../../compute/onnx-proto.js';

/**
 * A small builder over the project's ONNX writer (src/compute/onnx-proto.ts, a pure protobuf
 * encoder): ops return the name of their output, constants become initializers. Opset 17 (the
 * first with LayerNormalization).
 */
export class GraphBuilder {
  private readonly nodes: Uint8Array[] = [];
  private readonly inits: Uint8Array[] = [];
  private readonly names = new Set<string>();
  private n = 0;

  constructor(readonly name: string) {}

  private fresh(prefix: string): string {
    let s: string;
    do s = `${prefix}_${this.n++}`;
    while (this.names.has(s));
    this.names.add(s);
    return s;
  }

  /** One op with one output (named `out`, or a fresh name). */
  op(type: string, inputs: string[], attrs: Attr[] = [], out?: string): string {
    const o = out ?? this.fresh(type.toLowerCase());
    this.names.add(o);
    this.nodes.push(node(type, inputs, [o], attrs, `${type}_${o}`));
    return o;
  }

  /** One op with `count` outputs. */
  opN(type: string, inputs: string[], count: number, attrs: Attr[] = []): string[] {
    const outs = Array.from({ length: count }, () => this.fresh(type.toLowerCase()));
    this.nodes.push(node(type, inputs, outs, attrs, `${type}_${outs[0]}`));
    return outs;
  }

  float(dims: number[], data: Float32Array, prefix = 'w'): string {
    const name = this.fresh(prefix);
    this.inits.push(floatInitializer(name, dims, data));
    return name;
  }

  scalar(v: number): string {
    return this.float([], Float32Array.of(v), 'c');
  }

  int64(values: number[]): string {
    const name = this.fresh('i');
    this.inits.push(int64Initializer(name, values));
    return name;
  }

  // ---- common compositions ----

  matmulBias(x: string, w: Weight, b?: Weight): string {
    const y = this.op('MatMul', [x, this.float(w.shape, w.data)]);
    return b ? this.op('Add', [y, this.float(b.shape, b.data)]) : y;
  }

  build(inputs: { name: string; type: number; dims: Dim[] }[], outputs: { name: string; dims: Dim[] }[]): Uint8Array {
    return model({
      name: this.name,
      nodes: this.nodes,
      inputs: inputs.map((i) => tensorInfo(i.name, i.type, i.dims)),
      outputs: outputs.map((o) => tensorInfo(o.name, FLOAT, o.dims)),
      initializers: this.inits,
    });
  }
}

export interface Weight {
  shape: number[];
  data: Float32Array;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

/**
 * The weights of a TF.js model.json (graph or layers format), by name: every group's shards
 * concatenated in order, float32 and int32 entries only (no quantisation).
 */
export function readTfjsWeights(
  dir: string,
  modelJson: { weightsManifest: { paths: string[]; weights: WeightSpec[] }[] },
): Map<string, { shape: number[]; dtype: string; data: Float32Array | Int32Array }> {
  const out = new Map<string, { shape: number[]; dtype: string; data: Float32Array | Int32Array }>();
  for (const group of modelJson.weightsManifest) {
    const buf = Buffer.concat(group.paths.map((p) => readFileSync(join(dir, p))));
    let off = 0;
    for (const w of group.weights) {
      if (w.quantization) throw new Error(`${dir}: weight ${w.name} is quantised; not supported`);
      if (w.dtype !== 'float32' && w.dtype !== 'int32') throw new Error(`${dir}: weight ${w.name} has dtype ${w.dtype}`);
      const count = w.shape.reduce((a, b) => a * b, 1);
      const bytes = buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + 4 * count);
      out.set(w.name, { shape: w.shape, dtype: w.dtype, data: w.dtype === 'float32' ? new Float32Array(bytes) : new Int32Array(bytes) });
      off += 4 * count;
    }
    if (off !== buf.byteLength) throw new Error(`${dir}: weights use ${off} bytes of ${buf.byteLength}`);
  }
  return out;
}
