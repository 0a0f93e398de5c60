/**
 * Shape-only models: BERT checkpoints at a published architecture's shape (bert-base, bert-large,
 * distilbert) with deterministic random weights, so timing can be studied at the papers' scale. They are
 * made on first use into the data directory and sharded like any checkpoint; accuracy does not apply.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeSafetensors, type Tensor } from '../../core/safetensors.js';
import { cacheDir } from '../../core/paths.js';
import { presetConfig, type ShapePreset } from './presets.js';

/** A WordPiece tokenizer to satisfy the loader; shape-only runs feed synthetic token ids. */
const TOKENIZER = join(dirname(fileURLToPath(import.meta.url)), '../../../../fixtures/models/bert-spam/tokenizer.json');

/** Deterministic N(0, std) values (xorshift32 + Box-Muller). */
function normal(n: number, std: number, seed: number): Float32Array {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next())) * std;
    const a = 2 * Math.PI * next();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

export function shapeModelDir(preset: ShapePreset): string {
  return join(cacheDir(), 'shapes', preset, 'model');
}

/** Makes (once) and returns the checkpoint directory of a shape-only model. */
export function ensureShapeModel(preset: ShapePreset): string {
  const dir = shapeModelDir(preset);
  if (existsSync(join(dir, 'model.safetensors'))) return dir;
  const c = presetConfig(preset);
  const H = c.hidden;
  let seed = 1;
  const tensors: Record<string, Tensor> = {};
  const rand = (name: string, shape: number[]) =>
    (tensors[name] = {
      shape,
      data: normal(
        shape.reduce((a, b) => a * b, 1),
        0.02,
        seed++,
      ),
    });
  const fill = (name: string, n: number, v: number) => (tensors[name] = { shape: [n], data: new Float32Array(n).fill(v) });
  rand('bert.embeddings.word_embeddings.weight', [c.vocabSize, H]);
  rand('bert.embeddings.position_embeddings.weight', [c.maxPositions, H]);
  rand('bert.embeddings.token_type_embeddings.weight', [c.typeVocab, H]);
  fill('bert.embeddings.LayerNorm.weight', H, 1);
  fill('bert.embeddings.LayerNorm.bias', H, 0);
  for (let l = 0; l < c.layers; l++) {
    const p = `bert.encoder.layer.${l}.`;
    for (const n of ['query', 'key', 'value']) {
      rand(`${p}attention.self.${n}.weight`, [H, H]);
      fill(`${p}attention.self.${n}.bias`, H, 0);
    }
    rand(`${p}attention.output.dense.weight`, [H, H]);
    fill(`${p}attention.output.dense.bias`, H, 0);
    fill(`${p}attention.output.LayerNorm.weight`, H, 1);
    fill(`${p}attention.output.LayerNorm.bias`, H, 0);
    rand(`${p}intermediate.dense.weight`, [c.intermediate, H]);
    fill(`${p}intermediate.dense.bias`, c.intermediate, 0);
    rand(`${p}output.dense.weight`, [H, c.intermediate]);
    fill(`${p}output.dense.bias`, H, 0);
    fill(`${p}output.LayerNorm.weight`, H, 1);
    fill(`${p}output.LayerNorm.bias`, H, 0);
  }
  rand('bert.pooler.dense.weight', [H, H]);
  fill('bert.pooler.dense.bias', H, 0);
  rand('classifier.weight', [c.labels.length, H]);
  fill('classifier.bias', c.labels.length, 0);

  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'model.safetensors'), encodeSafetensors(tensors));
  copyFileSync(TOKENIZER, join(tmp, 'tokenizer.json'));
  const config = {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    vocab_size: c.vocabSize,
    hidden_size: H,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    intermediate_size: c.intermediate,
    hidden_act: 'gelu',
    max_position_embeddings: c.maxPositions,
    type_vocab_size: c.typeVocab,
    layer_norm_eps: c.eps,
    id2label: Object.fromEntries(c.labels.map((l, i) => [String(i), l])),
    shardlab: { shapeOnly: true, preset },
  };
  writeFileSync(join(tmp, 'config.json'), JSON.stringify(config, null, 2));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}
