/**
 * The project's ONNX writer: a tiny protobuf encoder for the few ONNX messages the graphs need
 * (nodes, value infos, initializers, graphs, models). Field numbers are those of onnx/onnx.proto
 * (proto2); we write only what the graphs use.
 */

// ---- protobuf wire format -------------------------------------------------------------

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
const utf8 = new TextEncoder();

/** Base-128 varint; negative int64 values are written as their 64-bit two's complement (10 bytes). */
function varint(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const tag = (field: number, wire: number) => varint((field << 3) | wire);
const fInt = (field: number, v: number | bigint) => Uint8Array.from([...tag(field, WIRE_VARINT), ...varint(v)]);
const fBytes = (field: number, b: Uint8Array) => concat([Uint8Array.from([...tag(field, WIRE_LEN), ...varint(b.length)]), b]);
const fStr = (field: number, s: string) => fBytes(field, utf8.encode(s));
const fMsg = (field: number, ...parts: Uint8Array[]) => fBytes(field, concat(parts));
function fFloat(field: number, f: number): Uint8Array {
  const b = new Uint8Array(5 + 4);
  const t = tag(field, WIRE_FIXED32);
  b.set(t);
  new DataView(b.buffer).setFloat32(t.length, f, true);
  return b.subarray(0, t.length + 4);
}

// ---- ONNX messages --------------------------------------------------------------------

export const FLOAT = 1; // TensorProto.DataType
export const INT64 = 7;
export const INT32 = 6;
const ATTR_FLOAT = 1; // AttributeProto.AttributeType
const ATTR_INT = 2;
const ATTR_INTS = 7;

export type Attr = { name: string } & ({ i: number } | { f: number } | { ints: number[] });
export type Dim = number | string; // number → dim_value, string → dim_param (symbolic)

/** AttributeProto: name=1, f=2, i=3, ints=8, type=20. */
function attribute(a: Attr): Uint8Array {
  if ('i' in a) return concat([fStr(1, a.name), fInt(3, a.i), fInt(20, ATTR_INT)]);
  if ('f' in a) return concat([fStr(1, a.name), fFloat(2, a.f), fInt(20, ATTR_FLOAT)]);
  return concat([fStr(1, a.name), ...a.ints.map((v) => fInt(8, v)), fInt(20, ATTR_INTS)]);
}

/** NodeProto: input=1, output=2, name=3, op_type=4, attribute=5. */
export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attrs: Attr[] = [],
  name = `${opType}_${outputs[0]}`,
): Uint8Array {
  return concat([
    ...inputs.map((s) => fStr(1, s)),
    ...outputs.map((s) => fStr(2, s)),
    fStr(3, name),
    fStr(4, opType),
    ...attrs.map((a) => fMsg(5, attribute(a))),
  ]);
}

/** ValueInfoProto{name=1, type=2: TypeProto{tensor_type=1: {elem_type=1, shape=2: {dim=1: {dim_value=1 | dim_param=2}}}}}. */
export function tensorInfo(name: string, elemType: number, dims: Dim[]): Uint8Array {
  const shape = dims.map((d) => fMsg(1, typeof d === 'number' ? fInt(1, d) : fStr(2, d)));
  return concat([fStr(1, name), fMsg(2, fMsg(1, fInt(1, elemType), fMsg(2, ...shape)))]);
}

/** TensorProto (int64, 1-D): dims=1, data_type=2, name=8, raw_data=9 (little-endian). */
export function int64Initializer(name: string, values: number[]): Uint8Array {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return concat([fInt(1, values.length), fInt(2, INT64), fStr(8, name), fBytes(9, raw)]);
}

export interface GraphSpec {
  name: string;
  nodes: Uint8Array[];
  inputs: Uint8Array[];
  outputs: Uint8Array[];
  initializers?: Uint8Array[];
}

/** GraphProto's fields: node=1, name=2, initializer=5, input=11, output=12. */
function graphBody(g: GraphSpec): Uint8Array {
  return concat([
    ...g.nodes.map((n) => fMsg(1, n)),
    fStr(2, g.name),
    ...(g.initializers ?? []).map((t) => fMsg(5, t)),
    ...g.inputs.map((v) => fMsg(11, v)),
    ...g.outputs.map((v) => fMsg(12, v)),
  ]);
}

/** ModelProto: ir_version=1, graph=7, opset_import=8 (OperatorSetIdProto: domain=1, version=2). */
export function model(g: GraphSpec, opset = 17, irVersion = 8): Uint8Array {
  return concat([fInt(1, irVersion), fMsg(7, graphBody(g)), fMsg(8, fStr(1, ''), fInt(2, opset))]);
}

const littleEndian = new Uint8Array(Float32Array.of(1).buffer)[3] === 0x3f;

/** TensorProto (float, any rank; dims [] is a scalar): dims=1, data_type=2, name=8, raw_data=9 (little-endian). */
export function floatInitializer(name: string, dims: number[], data: Float32Array): Uint8Array {
  if (!littleEndian) throw new Error('raw_data is little-endian; this platform is not');
  if (data.length !== dims.reduce((a, b) => a * b, 1))
    throw new RangeError(`initializer ${name}: ${data.length} values for [${dims.join(', ')}]`);
  return concat([
    ...dims.map((d) => fInt(1, d)),
    fInt(2, FLOAT),
    fStr(8, name),
    fBytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
  ]);
}

/**
 * model() plus one large float initializer (a segment of matrix rows, hundreds of MB), laid out
 * so that its data is written once, by the caller, at `dataOffset` (the generic writer copies
 * every nested message once per level). Protobuf fields may come in any order, so the
 * initializer goes last in the graph, after the fields of `g`; a message must stay under 2 GB.
 * The data is raw_data: little-endian float32, i.e. a Float32Array's bytes on this platform.
 */
export function modelWithFloatInitializer(
  g: GraphSpec,
  init: { name: string; dims: number[] },
  opset = 17,
  irVersion = 8,
): { bytes: Uint8Array; dataOffset: number } {
  if (!littleEndian) throw new Error('raw_data is little-endian; this platform is not');
  const rawLen = init.dims.reduce((a, b) => a * b, 1) * 4;
  if (rawLen > 0x7f000000) throw new RangeError(`initializer ${init.name}: ${rawLen} bytes exceeds protobuf's 2 GB limit`);
  const lenPrefix = (field: number, len: number) => Uint8Array.from([...tag(field, WIRE_LEN), ...varint(len)]);
  // TensorProto: dims=1, data_type=2, name=8, raw_data=9.
  const tensorHead = concat([...init.dims.map((d) => fInt(1, d)), fInt(2, FLOAT), fStr(8, init.name), lenPrefix(9, rawLen)]);
  const tensorLen = tensorHead.length + rawLen;
  const initHead = lenPrefix(5, tensorLen);
  const rest = graphBody(g);
  const graphLen = rest.length + initHead.length + tensorLen;
  const head = concat([fInt(1, irVersion), lenPrefix(7, graphLen), rest, initHead, tensorHead]);
  const opsetField = fMsg(8, fStr(1, ''), fInt(2, opset));
  const bytes = new Uint8Array(head.length + rawLen + opsetField.length);
  bytes.set(head, 0);
  bytes.set(opsetField, head.length + rawLen);
  return { bytes, dataOffset: head.length };
}
