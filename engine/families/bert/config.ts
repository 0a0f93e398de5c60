import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../../core/errors.js';

/** The subset of a Hugging Face BertConfig that shardlab runs, as read from config.json. */
const ConfigSchema = z.object({
  model_type: z.literal('bert', { message: 'model_type must be "bert"' }),
  vocab_size: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  max_position_embeddings: z.number().int().positive(),
  type_vocab_size: z.number().int().positive().default(2),
  layer_norm_eps: z.number().positive().default(1e-12),
  hidden_act: z.literal('gelu', { message: 'only hidden_act "gelu" (erf form) is supported' }).default('gelu'),
  id2label: z.record(z.string(), z.string()),
  shardlab: z.object({ task: z.string().optional(), shapeOnly: z.boolean().optional() }).partial().optional(),
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
  labels: string[];
  /** Slices per layer: one head plus intermediate / heads FFN neurons each (STI's shard width). */
  slices: number;
  ffnPerSlice: number;
  /** The fixture task this model was trained on, when known. */
  task?: string;
  /** Random weights at a published architecture's shape: for timing only, accuracy is not applicable. */
  shapeOnly?: boolean;
}

export function parseBertConfig(raw: unknown, file: string): BertConfig {
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${file}: ${issue.path.join('.') || 'config'}: ${issue.message}`);
  }
  const c = parsed.data;
  if (c.hidden_size % c.num_attention_heads !== 0)
    throw new UserError(`${file}: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}`);
  if (c.intermediate_size % c.num_attention_heads !== 0)
    throw new UserError(
      `${file}: intermediate_size ${c.intermediate_size} is not divisible by num_attention_heads ${c.num_attention_heads}, so it cannot be cut into slices`,
    );
  const labels = Object.keys(c.id2label)
    .map(Number)
    .sort((a, b) => a - b)
    .map((i) => c.id2label[String(i)]);
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
    labels,
    slices: c.num_attention_heads,
    ffnPerSlice: c.intermediate_size / c.num_attention_heads,
    task: c.shardlab?.task,
    shapeOnly: c.shardlab?.shapeOnly,
  };
}

export function readBertConfig(dir: string): BertConfig {
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`${file}: missing; --model must be a model directory with config.json, model.safetensors and tokenizer.json`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UserError(`${file}: not valid JSON`);
  }
  return parseBertConfig(raw, file);
}
