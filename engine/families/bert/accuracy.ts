import { performance } from 'node:perf_hooks';
import { lengthBuckets, makeBatch } from './batch.js';
import type { BertModel } from './model.js';
import type { LayerWeights } from './weights.js';
import type { Example } from './datasets.js';

export interface EvalOptions {
  layers: number;
  slices: number;
  /** The layers to run, already cut to `slices`; default: the checkpoint's submodel. */
  weights?: LayerWeights[];
  batchSize?: number;
  /** Called after every batch with the number of examples done so far. */
  onProgress?: (done: number, total: number) => void;
}

export interface EvalResult {
  layers: number;
  slices: number;
  examples: number;
  correct: number;
  accuracy: number;
  examplesPerSecond: number;
  /** Predicted label per example, in the input order. */
  predictions: Int32Array;
}

export function argmaxRows(logits: Float32Array, rows: number): Int32Array {
  const cols = logits.length / rows;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (logits[r * cols + c] > logits[r * cols + best]) best = c;
    out[r] = best;
  }
  return out;
}

/** Accuracy of a (layers, slices) submodel on labelled examples, computed for real on onnxruntime. */
export async function evaluate(model: BertModel, examples: Example[], opts: EvalOptions): Promise<EvalResult> {
  model.checkShape(opts.layers, opts.slices);
  const weights = opts.weights ?? model.submodel(opts.layers, opts.slices);
  const start = performance.now();
  const encoded = examples.map((e) => model.tokenizer.encodeExample(e));
  const seqs = encoded.map((e) => e.ids);
  const predictions = new Int32Array(examples.length);
  let done = 0;
  for (const idx of lengthBuckets(seqs, opts.batchSize ?? 32)) {
    const logits = await model.logitsWith(
      makeBatch(
        idx.map((i) => seqs[i]),
        idx.map((i) => encoded[i].types),
      ),
      weights,
    );
    argmaxRows(logits, idx.length).forEach((p, k) => (predictions[idx[k]] = p));
    done += idx.length;
    opts.onProgress?.(done, examples.length);
  }
  const correct = examples.reduce((n, e, i) => n + (predictions[i] === e.label ? 1 : 0), 0);
  const seconds = (performance.now() - start) / 1000;
  return {
    layers: opts.layers,
    slices: opts.slices,
    examples: examples.length,
    correct,
    accuracy: examples.length ? correct / examples.length : 0,
    examplesPerSecond: examples.length / seconds,
    predictions,
  };
}
