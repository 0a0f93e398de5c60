import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
/** An attribute value; wrap a float that happens to be whole in `{ float: x }`. */
type Attr = number | number[] | string | { float: number };

export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;
export const UINT8 = onnx.TensorProto.DataType.UINT8;

/** A dimension: a fixed size or a symbolic name (batch, sequence, ...). */
export type Dim = number | string;

/**
 * A small builder for ONNX graphs: named inputs, initializers, nodes with generated output names, and
 * outputs; `toBytes()` serializes a ModelProto that onnxruntime loads from memory.
 */
export class GraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private counter = 0;

  constructor(
    private readonly name: string,
    private readonly opset = 17,
  ) {}

  input(name: string, dims: Dim[], type = FLOAT): string {
    this.inputs.push(valueInfo(name, dims, type));
    return name;
  }

  output(name: string, dims: Dim[], type = FLOAT): void {
    this.outputs.push(valueInfo(name, dims, type));
  }

  initializer(name: string, data: Float32Array, dims: number[]): string {
    this.initializers.push(
      onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }),
    );
    return name;
  }

  ints(name: string, values: number[]): string {
    this.initializers.push(onnx.TensorProto.create({ name, dims: [values.length], dataType: INT64, int64Data: values }));
    return name;
  }

  intScalar(name: string, value: number): string {
    this.initializers.push(onnx.TensorProto.create({ name, dims: [], dataType: INT64, int64Data: [value] }));
    return name;
  }

  scalar(name: string, value: number): string {
    this.initializers.push(onnx.TensorProto.create({ name, dims: [], dataType: FLOAT, floatData: [value] }));
    return name;
  }

  /** Adds a node; returns its (first) output name, generated unless `output` is given. */
  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, output?: string): string {
    const out = output ?? `${op.toLowerCase()}_${this.counter++}`;
    this.nodes.push(
      onnx.NodeProto.create({
        opType: op,
        input: inputs,
        output: [out],
        name: out,
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return out;
  }

  /** Adds a node with several outputs (TopK's values and indices, …); returns their generated names. */
  multi(op: string, inputs: string[], count: number, attrs: Record<string, Attr> = {}): string[] {
    const base = `${op.toLowerCase()}_${this.counter++}`;
    const outs = Array.from({ length: count }, (_, i) => `${base}_${i}`);
    this.nodes.push(
      onnx.NodeProto.create({
        opType: op,
        input: inputs,
        output: outs,
        name: base,
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return outs;
  }

  toBytes(): Uint8Array {
    const graph = onnx.GraphProto.create({
      name: this.name,
      node: this.nodes,
      input: this.inputs,
      output: this.outputs,
      initializer: this.initializers,
    });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'shardlab',
      opsetImport: [{ domain: '', version: this.opset }],
      graph,
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dims: Dim[], type: number) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: type,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

function attribute(name: string, v: Attr) {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'object' && !Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.float });
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
  if (Number.isInteger(v)) return onnx.AttributeProto.create({ name, type: T.INT, i: v });
  return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v });
}
