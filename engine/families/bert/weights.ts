import { UserError } from '../../core/errors.js';
import { readCheckpoint } from '../../core/checkpoint-files.js';
import type { Tensor } from '../../core/safetensors.js';
import type { BertConfig } from './config.js';
import { nameVariants } from './hf-names.js';

/**
 * One encoder layer's fp32 weights in the engine's layout: every part that belongs to slices is stored
 * slice-major, so the first m slices of a part are a prefix of its array (no copy to run m slices).
 */
export interface LayerWeights {
  /** [heads * headDim, hidden]: PyTorch's [out, in] layout, rows grouped by head. */
  wq: Float32Array;
  wk: Float32Array;
  wv: Float32Array;
  bq: Float32Array;
  bk: Float32Array;
  bv: Float32Array;
  /** [heads * headDim, hidden]: the transpose of attention.output.dense.weight, rows grouped by head. */
  wo: Float32Array;
  bo: Float32Array;
  ln1g: Float32Array;
  ln1b: Float32Array;
  /** [intermediate, hidden]: intermediate.dense.weight, rows grouped by slice. */
  wi: Float32Array;
  bi: Float32Array;
  /** [intermediate, hidden]: the transpose of output.dense.weight, rows grouped by slice. */
  wout: Float32Array;
  bout: Float32Array;
  ln2g: Float32Array;
  ln2b: Float32Array;
}

export type LayerPart = keyof LayerWeights;

/** How each layer part is cut: per head, per FFN slice, or shared by the whole layer. */
export const LAYER_PARTS: { part: LayerPart; unit: 'head' | 'ffn' | 'shared'; rowLength: 'hidden' | 1 }[] = [
  { part: 'wq', unit: 'head', rowLength: 'hidden' },
  { part: 'bq', unit: 'head', rowLength: 1 },
  { part: 'wk', unit: 'head', rowLength: 'hidden' },
  { part: 'bk', unit: 'head', rowLength: 1 },
  { part: 'wv', unit: 'head', rowLength: 'hidden' },
  { part: 'bv', unit: 'head', rowLength: 1 },
  { part: 'wo', unit: 'head', rowLength: 'hidden' },
  { part: 'wi', unit: 'ffn', rowLength: 'hidden' },
  { part: 'bi', unit: 'ffn', rowLength: 1 },
  { part: 'wout', unit: 'ffn', rowLength: 'hidden' },
  { part: 'bo', unit: 'shared', rowLength: 'hidden' },
  { part: 'ln1g', unit: 'shared', rowLength: 'hidden' },
  { part: 'ln1b', unit: 'shared', rowLength: 'hidden' },
  { part: 'bout', unit: 'shared', rowLength: 'hidden' },
  { part: 'ln2g', unit: 'shared', rowLength: 'hidden' },
  { part: 'ln2b', unit: 'shared', rowLength: 'hidden' },
];

/** Number of floats of `part` that one slice owns (or the whole part, when shared). */
export function partLength(cfg: BertConfig, unit: 'head' | 'ffn' | 'shared', rowLength: 'hidden' | 1): number {
  const row = rowLength === 'hidden' ? cfg.hidden : 1;
  if (unit === 'head') return cfg.headDim * row;
  if (unit === 'ffn') return cfg.ffnPerSlice * row;
  return cfg.hidden;
}

/** The first m slices of a layer: prefix views of its arrays, in the order the layer graph takes them. */
export function sliceLayer(cfg: BertConfig, w: LayerWeights, m: number): LayerWeights {
  const out = {} as LayerWeights;
  for (const { part, unit, rowLength } of LAYER_PARTS) {
    out[part] = unit === 'shared' ? w[part] : w[part].subarray(0, m * partLength(cfg, unit, rowLength));
  }
  return out;
}

/** Everything outside the encoder layers: embeddings, pooler and classifier (stored once, unsharded). */
export interface BaseWeights {
  wordEmb: Float32Array;
  posEmb: Float32Array;
  typeEmb: Float32Array;
  embLnG: Float32Array;
  embLnB: Float32Array;
  poolerW: Float32Array;
  poolerB: Float32Array;
  classifierW: Float32Array;
  classifierB: Float32Array;
}

export interface BertWeights extends BaseWeights {
  layers: LayerWeights[];
  /** Tensors of the checkpoint that are not weights (integer buffers such as position_ids), not read. */
  ignored?: IgnoredTensor[];
}

export interface IgnoredTensor {
  name: string;
  dtype: string;
  shape: number[];
}

/** One line naming the tensors a checkpoint holds that were not read (empty when none). */
export function ignoredNote(ignored: readonly IgnoredTensor[] | undefined): string {
  if (!ignored || ignored.length === 0) return '';
  const shown = ignored.slice(0, 5).map((t) => `${t.name} (${t.dtype} [${t.shape.join(', ')}])`);
  const more = ignored.length > 5 ? ` and ${ignored.length - 5} more` : '';
  return `ignored ${ignored.length === 1 ? 'a tensor that is not a weight' : `${ignored.length} tensors that are not weights`}: ${shown.join(', ')}${more}`;
}

function transpose(t: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(t.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t[r * cols + c];
  return out;
}

/** Hugging Face names and shapes of the base tensors. */
export function baseTensorSpecs(cfg: BertConfig): [keyof BaseWeights, string, number[]][] {
  const H = cfg.hidden;
  return [
    ['wordEmb', 'bert.embeddings.word_embeddings.weight', [cfg.vocabSize, H]],
    ['posEmb', 'bert.embeddings.position_embeddings.weight', [cfg.maxPositions, H]],
    ['typeEmb', 'bert.embeddings.token_type_embeddings.weight', [cfg.typeVocab, H]],
    ['embLnG', 'bert.embeddings.LayerNorm.weight', [H]],
    ['embLnB', 'bert.embeddings.LayerNorm.bias', [H]],
    ['poolerW', 'bert.pooler.dense.weight', [H, H]],
    ['poolerB', 'bert.pooler.dense.bias', [H]],
    ['classifierW', 'classifier.weight', [cfg.labels.length, H]],
    ['classifierB', 'classifier.bias', [cfg.labels.length]],
  ];
}

/** A lookup that checks each tensor's presence and shape, naming the file on failure. */
export function tensorGetter(tensors: Map<string, Tensor>, file: string, variant: BertConfig['variant'] = undefined) {
  return (name: string, shape: number[]): Float32Array => {
    const names = nameVariants(name, variant);
    const t: Tensor | undefined = names.map((n) => tensors.get(n)).find((x) => x !== undefined);
    if (!t)
      throw new UserError(
        `${file}: tensor "${names[0]}" is missing; is this a ${variant === 'distilbert' ? 'DistilBert' : variant === 'roberta' ? 'Roberta' : 'Bert'}ForSequenceClassification checkpoint?`,
      );
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      throw new UserError(
        `${file}: tensor "${name}" has shape [${t.shape.join(', ')}] but config.json implies [${shape.join(', ')}]; config and weights do not match`,
      );
    return t.data;
  };
}

/**
 * The base weights from a checkpoint's tensors (`checkpoint`: its position table still has the rows before
 * position 0 that RoBERTa skips, dropped here) or a shard store's base.safetensors.
 */
export function baseWeightsFrom(tensors: Map<string, Tensor>, cfg: BertConfig, file: string, checkpoint = false): BaseWeights {
  const get = tensorGetter(tensors, file, cfg.variant);
  const out = {} as BaseWeights;
  for (const [key, name, shape] of baseTensorSpecs(cfg)) {
    // DistilBERT has no token types: a zero token-type embedding adds nothing.
    const absent = key === 'typeEmb' && cfg.variant === 'distilbert' && !nameVariants(name, cfg.variant).some((n) => tensors.has(n));
    const offset = checkpoint && key === 'posEmb' ? (cfg.positionOffset ?? 0) : 0;
    out[key] = absent
      ? new Float32Array(cfg.typeVocab * cfg.hidden)
      : offset
        ? get(name, [shape[0] + offset, shape[1]]).subarray(offset * cfg.hidden)
        : get(name, shape);
  }
  return out;
}

/**
 * Loads the checkpoint's weights (model.safetensors, or the shards its index lists), fp16 and bf16 widened
 * to fp32, and checks every tensor against the config before anything runs. Integer and boolean tensors
 * (buffers such as position_ids) are not weights: they are listed in `ignored`.
 */
export function loadBertWeights(dir: string, cfg: BertConfig): BertWeights {
  const { tensors, ignored, files } = readCheckpoint(dir);
  const file = files.length === 1 ? files[0] : `${dir} (${files.length} shards)`;
  const get = tensorGetter(tensors, file, cfg.variant);
  const { hidden: H, intermediate: I } = cfg;
  const layers: LayerWeights[] = [];
  for (let l = 0; l < cfg.layers; l++) {
    const p = `bert.encoder.layer.${l}.`;
    layers.push({
      wq: get(p + 'attention.self.query.weight', [H, H]),
      bq: get(p + 'attention.self.query.bias', [H]),
      wk: get(p + 'attention.self.key.weight', [H, H]),
      bk: get(p + 'attention.self.key.bias', [H]),
      wv: get(p + 'attention.self.value.weight', [H, H]),
      bv: get(p + 'attention.self.value.bias', [H]),
      wo: transpose(get(p + 'attention.output.dense.weight', [H, H]), H, H),
      bo: get(p + 'attention.output.dense.bias', [H]),
      ln1g: get(p + 'attention.output.LayerNorm.weight', [H]),
      ln1b: get(p + 'attention.output.LayerNorm.bias', [H]),
      wi: get(p + 'intermediate.dense.weight', [I, H]),
      bi: get(p + 'intermediate.dense.bias', [I]),
      wout: transpose(get(p + 'output.dense.weight', [H, I]), H, I),
      bout: get(p + 'output.dense.bias', [H]),
      ln2g: get(p + 'output.LayerNorm.weight', [H]),
      ln2b: get(p + 'output.LayerNorm.bias', [H]),
    });
  }
  return { ...baseWeightsFrom(tensors, cfg, file, true), layers, ignored };
}
