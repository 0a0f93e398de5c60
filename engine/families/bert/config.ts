import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseJson, shown, UserError } from '../../core/errors.js';
import { readSafetensorsHeader } from '../../core/safetensors.js';
import { nameVariants } from './hf-names.js';
import { hasSafetensorsWeights, readCheckpointHeaders, refuseForeignWeights } from '../../core/checkpoint-files.js';

/** The FFN activations shardlab runs, by config.json's hidden_act (Hugging Face's ACT2FN names). */
export const ACTIVATIONS = {
  gelu: 'gelu',
  gelu_new: 'gelu_new',
  gelu_pytorch_tanh: 'gelu_new',
  relu: 'relu',
  silu: 'silu',
  swish: 'silu',
} as const;
/** gelu: erf form; gelu_new: tanh approximation; relu; silu: x * sigmoid(x). */
export type Activation = (typeof ACTIVATIONS)[keyof typeof ACTIVATIONS];

/** Sequence-classifier architectures (config.json's architectures) shardlab runs. */
const CLASSIFIERS: Record<string, string> = {
  bert: 'BertForSequenceClassification',
  distilbert: 'DistilBertForSequenceClassification',
  roberta: 'RobertaForSequenceClassification',
};

/** DistilBertConfig's names of BertConfig's settings. */
const DISTILBERT_KEYS: Record<string, string> = {
  dim: 'hidden_size',
  n_layers: 'num_hidden_layers',
  n_heads: 'num_attention_heads',
  hidden_dim: 'intermediate_size',
  activation: 'hidden_act',
};

/** A DistilBertConfig as the BertConfig of the same computation (no token types; LayerNorm eps 1e-12, as DistilBERT's). */
function fromDistilbert(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw, model_type: 'bert', type_vocab_size: 1, layer_norm_eps: 1e-12 };
  for (const [from, to] of Object.entries(DISTILBERT_KEYS)) {
    delete out[from];
    if (Object.hasOwn(raw, from)) out[to] = raw[from];
  }
  return out;
}

/**
 * Upper bounds of the dimensions config.json may declare: generous (BERT-large is 1024 hidden, 4096
 * intermediate, 24 layers, 16 heads), so that no config can make the engine allocate without bound.
 */
export const CONFIG_LIMITS = {
  vocab_size: 1 << 21,
  hidden_size: 65_536,
  num_hidden_layers: 1_024,
  num_attention_heads: 1_024,
  intermediate_size: 65_536,
  max_position_embeddings: 65_536,
  type_vocab_size: 1_024,
  labels: 65_536,
} as const;

const dim = (max: number) =>
  z
    .number({ message: 'must be a number' })
    .int({ message: 'must be an integer' })
    .min(1, { message: 'must be at least 1' })
    .max(max, { message: `must be at most ${max}` });

/** The subset of a Hugging Face BertConfig that shardlab runs, as read from config.json. */
const ConfigSchema = z.object({
  model_type: z.literal('bert', { message: 'model_type must be "bert", "distilbert" or "roberta"' }),
  vocab_size: dim(CONFIG_LIMITS.vocab_size),
  hidden_size: dim(CONFIG_LIMITS.hidden_size),
  num_hidden_layers: dim(CONFIG_LIMITS.num_hidden_layers),
  num_attention_heads: dim(CONFIG_LIMITS.num_attention_heads),
  intermediate_size: dim(CONFIG_LIMITS.intermediate_size),
  max_position_embeddings: dim(CONFIG_LIMITS.max_position_embeddings),
  type_vocab_size: dim(CONFIG_LIMITS.type_vocab_size).default(2),
  layer_norm_eps: z
    .number({ message: 'must be a number' })
    .positive({ message: 'must be above 0' })
    .max(1, { message: 'must be at most 1' })
    .default(1e-12),
  hidden_act: z
    .enum(Object.keys(ACTIVATIONS) as [keyof typeof ACTIVATIONS], {
      message: `shardlab runs hidden_act ${Object.keys(ACTIVATIONS).join(', ')}`,
    })
    .default('gelu'),
  id2label: z
    .record(z.string(), z.string({ message: 'labels must be strings' }).max(1000, { message: 'a label is at most 1000 characters' }))
    .refine((m) => Object.keys(m).length >= 1, { message: 'needs at least one label' }),
  shardlab: z
    .object({ task: z.string().max(200).optional(), shapeOnly: z.boolean().optional() })
    .partial()
    .optional(),
});

export interface BertConfig {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  headDim: number;
  intermediate: number;
  maxPositions: number;
  typeVocab: number;
  eps: number;
  /**
   * DistilBERT's computation (no token types, ReLU in the classifier's hidden layer) or RoBERTa's names (its
   * positions offset, see positionOffset); absent means BERT's.
   */
  variant?: 'distilbert' | 'roberta';
  /**
   * Rows of the checkpoint's position embeddings before position 0 (RoBERTa numbers positions from
   * padding_idx + 1); they are dropped on load, so maxPositions counts the usable ones.
   */
  positionOffset?: number;
  /** The FFN activation (config.json's hidden_act); absent means gelu (erf form). */
  activation?: Activation;
  labels: string[];
  /** Slices per layer: one head plus intermediate / heads FFN neurons each (STI's shard width). */
  slices: number;
  ffnPerSlice: number;
  /** The fixture task this model was trained on, when known. */
  task?: string;
  /** Random weights at a published architecture's shape: for timing only, accuracy is not applicable. */
  shapeOnly?: boolean;
}

/** The value at a zod issue's path, for the message. */
function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/**
 * Refuses, by the field, what a Hugging Face config can ask for that shardlab does not run (it would
 * otherwise be run as plain BERT and give wrong numbers without a word).
 */
function refuseUnsupported(raw: Record<string, unknown>, file: string): void {
  const type = raw.model_type === 'distilbert' || raw.model_type === 'roberta' ? raw.model_type : 'bert';
  const pos = raw.position_embedding_type;
  if (pos !== undefined && pos !== 'absolute')
    throw new UserError(
      `${file}: position_embedding_type ${shown(pos)} is not supported; shardlab runs absolute position embeddings only (relative_key and relative_key_query are not implemented)`,
    );
  if (raw.is_encoder_decoder === true)
    throw new UserError(`${file}: is_encoder_decoder is true; shardlab runs encoder-only sequence classifiers, not encoder-decoder models`);
  if (raw.add_cross_attention === true)
    throw new UserError(`${file}: add_cross_attention is true; shardlab runs encoder-only sequence classifiers, without cross-attention`);
  const actKey = type === 'distilbert' ? 'activation' : 'hidden_act';
  const act = raw[actKey];
  if (act !== undefined && (typeof act !== 'string' || !Object.hasOwn(ACTIVATIONS, act)))
    throw new UserError(`${file}: ${actKey} ${shown(act)} is not supported; shardlab runs ${Object.keys(ACTIVATIONS).join(', ')}`);
  const arch = raw.architectures;
  if (arch !== undefined && arch !== null) {
    if (!Array.isArray(arch) || arch.length === 0 || !arch.every((a) => typeof a === 'string'))
      throw new UserError(`${file}: architectures: expected a list of class names (got ${shown(arch)})`);
    if (!arch.includes(CLASSIFIERS[type]))
      throw new UserError(
        `${file}: architectures ${shown(arch)} is not supported; shardlab runs sequence classifiers (${CLASSIFIERS[type]}) only`,
      );
  }
}

/** RoBERTa's positions: numbered from pad_token_id + 1, so that many rows of the table are never used. */
function robertaPositions(raw: Record<string, unknown>, maxPositions: number, file: string) {
  const pad = raw.pad_token_id ?? 1;
  if (!Number.isInteger(pad) || (pad as number) < 0 || (pad as number) + 2 > maxPositions)
    throw new UserError(`${file}: pad_token_id: must be an integer from 0 to ${maxPositions - 2} (got ${shown(pad)})`);
  const offset = (pad as number) + 1;
  return { variant: 'roberta' as const, positionOffset: offset, maxPositions: maxPositions - offset };
}

export function parseBertConfig(raw: unknown, file: string): BertConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${file}: not a JSON object of settings`);
  const type = (raw as Record<string, unknown>).model_type;
  if (type === 'bert' || type === 'distilbert' || type === 'roberta') refuseUnsupported(raw as Record<string, unknown>, file);
  const distil = type === 'distilbert';
  const roberta = type === 'roberta';
  const asBert = distil ? fromDistilbert(raw as Record<string, unknown>) : roberta ? { ...raw, model_type: 'bert' } : raw;
  const parsed = ConfigSchema.safeParse(asBert);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const got = valueAt(asBert, issue.path);
    // A DistilBERT setting is named as its config.json names it.
    const path = issue.path.map(String);
    const own = distil ? Object.entries(DISTILBERT_KEYS).find(([, to]) => to === path[0])?.[0] : undefined;
    if (own) path[0] = own;
    throw new UserError(`${file}: ${path.join('.') || 'config'}: ${issue.message}${got === undefined ? '' : ` (got ${shown(got)})`}`);
  }
  const c = parsed.data;
  if (c.hidden_size % c.num_attention_heads !== 0)
    throw new UserError(`${file}: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}`);
  if (c.intermediate_size % c.num_attention_heads !== 0)
    throw new UserError(
      `${file}: intermediate_size ${c.intermediate_size} is not divisible by num_attention_heads ${c.num_attention_heads}, so it cannot be cut into slices`,
    );
  // id2label must number its labels 0, 1, …, n - 1 (as Hugging Face writes it).
  const keys = Object.keys(c.id2label);
  if (keys.length > CONFIG_LIMITS.labels) throw new UserError(`${file}: id2label: at most ${CONFIG_LIMITS.labels} labels`);
  const labels: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    if (!Object.hasOwn(c.id2label, String(i)))
      throw new UserError(`${file}: id2label: keys must be the label ids 0 to ${keys.length - 1}; "${i}" is missing`);
    labels.push(c.id2label[String(i)]);
  }
  return {
    vocabSize: c.vocab_size,
    hidden: c.hidden_size,
    layers: c.num_hidden_layers,
    heads: c.num_attention_heads,
    headDim: c.hidden_size / c.num_attention_heads,
    intermediate: c.intermediate_size,
    maxPositions: c.max_position_embeddings,
    typeVocab: c.type_vocab_size,
    eps: c.layer_norm_eps,
    ...(ACTIVATIONS[c.hidden_act] === 'gelu' ? {} : { activation: ACTIVATIONS[c.hidden_act] }),
    ...(distil ? { variant: 'distilbert' as const } : {}),
    ...(roberta ? robertaPositions(raw as Record<string, unknown>, c.max_position_embeddings, file) : {}),
    labels,
    slices: c.num_attention_heads,
    ffnPerSlice: c.intermediate_size / c.num_attention_heads,
    task: c.shardlab?.task,
    shapeOnly: c.shardlab?.shapeOnly,
  };
}

/**
 * Reads and checks a model directory's config.json, then checks it against the weights beside it
 * before anything is allocated from it: every dimension the checkpoint's model.safetensors (or a shard
 * store's base.safetensors) pins must match its tensor shapes, and a shard store must be big enough to
 * hold the encoder layers the config declares.
 */
export function readBertConfig(dir: string): BertConfig {
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`${file}: missing; --model must be a model directory with config.json, model.safetensors and tokenizer.json`);
  }
  const cfg = parseBertConfig(parseJson(text, file), file);
  checkAgainstWeights(dir, cfg, file);
  return cfg;
}

/** Tensors whose shapes pin the config's dimensions, with the shapes config.json implies. */
function pinnedShapes(cfg: BertConfig, checkpoint: boolean): [string, number[]][] {
  const H = cfg.hidden;
  const shapes: [string, number[]][] = [
    ['bert.embeddings.word_embeddings.weight', [cfg.vocabSize, H]],
    ['bert.embeddings.position_embeddings.weight', [cfg.maxPositions + (checkpoint ? (cfg.positionOffset ?? 0) : 0), H]],
    // A DistilBERT checkpoint has no token types (its shard store keeps a zero embedding).
    ...(checkpoint && cfg.variant === 'distilbert'
      ? []
      : [['bert.embeddings.token_type_embeddings.weight', [cfg.typeVocab, H]] as [string, number[]]]),
    ['bert.pooler.dense.weight', [H, H]],
    ['classifier.weight', [cfg.labels.length, H]],
  ];
  if (checkpoint)
    shapes.push(
      ['bert.encoder.layer.0.intermediate.dense.weight', [cfg.intermediate, H]],
      [`bert.encoder.layer.${cfg.layers - 1}.attention.self.query.weight`, [H, H]],
    );
  return shapes;
}

function checkAgainstWeights(dir: string, cfg: BertConfig, configFile: string): void {
  refuseForeignWeights(dir);
  const checkpoint = hasSafetensorsWeights(dir);
  const storeBase = join(dir, 'base.safetensors');
  if (!checkpoint && !exists(storeBase)) return; // a bare config (shardlab cost): nothing is allocated from it
  const tensors = checkpoint
    ? readCheckpointHeaders(dir).tensors
    : readSafetensorsHeader(storeBase).tensors.map((t) => ({ ...t, file: storeBase }));
  const byName = new Map(tensors.map((t) => [t.name, t]));
  for (const [name, want] of pinnedShapes(cfg, checkpoint)) {
    const found = nameVariants(name, checkpoint ? cfg.variant : undefined)
      .map((n) => byName.get(n))
      .find((t) => t !== undefined);
    const weightsFile = found?.file ?? (checkpoint ? join(dir, 'model.safetensors') : storeBase);
    if (!found) throw new UserError(`${weightsFile}: tensor "${name}" is missing; is this a BertForSequenceClassification checkpoint?`);
    const shape = found.shape;
    if (shape.length !== want.length || shape.some((d, i) => d !== want[i]))
      throw new UserError(
        `${weightsFile}: tensor "${name}" has shape [${shape.join(', ')}] but ${configFile} implies [${want.join(', ')}]; config and weights do not match`,
      );
  }
  if (checkpoint) return;
  // A shard store holds every layer's slices at 2 bits or more: at least a quarter byte per weight.
  const H = cfg.hidden;
  const layerWeights = 4 * H * H + 2 * H * cfg.intermediate;
  const stored = directoryBytes(dir);
  if ((cfg.layers * layerWeights) / 4 > stored)
    throw new UserError(
      `${configFile}: ${cfg.layers} layers of hidden_size ${H} and intermediate_size ${cfg.intermediate} need more than the ${stored} bytes of the shard store; config and shards do not match`,
    );
}

function exists(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Bytes of the regular files in `dir` and its subfolders (one level down: a shard store's layout). */
function directoryBytes(dir: string): number {
  let total = 0;
  const add = (d: string, depth: number) => {
    try {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isFile()) total += statSync(join(d, e.name)).size;
        else if (e.isDirectory() && depth > 0) add(join(d, e.name), depth - 1);
      }
    } catch {
      // an unreadable entry adds nothing; the store's own checks name it when it is needed
    }
  };
  add(dir, 1);
  return total;
}
