/**
 * Bit flips against a shard store and a checkpoint: each flip changes one bit of one file, then the real
 * path runs — open the store, run a plan through the executor (virtual time) and score a configuration on
 * a few dev examples — and the outcome is counted per file kind: caught (one-line error naming the
 * file), unaffected (same logits and accuracy: the flipped file was not needed), silent (different
 * results, no error: a failure) or crash (any other error: a failure). For the checkpoint, a flip in a
 * file that affects results must change the checksum the caches are keyed by.
 *
 *   npm run bench:flips -- [--flips 1000] [--seed 1]
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { MODEL_DEFINING_FILES, MODEL_OPTIONAL_FILES, modelChecksum } from '../engine/core/checksum.js';
import { UserError } from '../engine/core/errors.js';
import { evaluate } from '../engine/families/bert/accuracy.js';
import { uniformConfiguration } from '../engine/families/bert/configuration.js';
import { loadTask } from '../engine/families/bert/datasets.js';
import { BertModel } from '../engine/families/bert/model.js';
import { paradigmPlan } from '../engine/families/bert/plan/plan.js';
import { executePlan } from '../engine/families/bert/program.js';
import { ShardStore, writeStore } from '../engine/families/bert/shard-store.js';
import { makeBatch } from '../engine/families/bert/batch.js';
import { VirtualClock } from '../engine/pipeline/clock.js';
import { CostModel, resolveSettings } from '../engine/soc/cost.js';
import { getSocProfile } from '../engine/soc/load.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'fixtures/models/bert-spam' },
    flips: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
  },
});
let state = Number(values.seed) >>> 0 || 1;
/** xorshift32: a seeded, repeatable stream. */
const random = (n: number) => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) % n;
};

const dir = join(mkdtempSync(join(tmpdir(), 'shardlab-flips-')), 'store');
writeStore(values.model!, dir, [2, 32]);
const profile = getSocProfile('odroid-n2plus');
const cost = new CostModel(profile, resolveSettings(profile));
const examples = loadTask('spam', 'dev').examples.slice(0, 8);

/** The real path: logits of a 2-bit layerwise run and the fp32 accuracy on 8 dev examples. */
async function outcome(): Promise<string> {
  const store = ShardStore.open(dir);
  const model = await BertModel.create(store.dir, store.config, store.base(), { threads: 1 });
  try {
    const batch = makeBatch([Int32Array.from(model.tokenizer.encode(examples[0].text).slice(0, 64))]);
    const plan = paradigmPlan('layerwise', uniformConfiguration(store.config.layers, store.config.slices, 2));
    const run = await executePlan({ plan, store, model, cost, clock: new VirtualClock(), batch });
    const c = uniformConfiguration(store.config.layers, store.config.slices, 32);
    const acc = await evaluate(model, examples, { layers: c.layers, slices: c.slices, weights: store.configurationWeights(c) });
    return JSON.stringify([Array.from(run.logits), acc.correct]);
  } finally {
    await model.release();
  }
}

function filesOf(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((f) => join(root, f))
    .filter((f) => statSync(f).isFile());
}
const kindOf = (root: string, f: string) => relative(root, f).replace(/\d+/g, 'N');

function flip(file: string): Buffer {
  const original = readFileSync(file);
  const bytes = Buffer.from(original);
  if (bytes.length > 0) bytes[random(bytes.length)] ^= 1 << random(8);
  writeFileSync(file, bytes);
  return original;
}

const reference = await outcome();
const byKind = new Map<string, string[]>();
for (const f of filesOf(dir)) byKind.set(kindOf(dir, f), [...(byKind.get(kindOf(dir, f)) ?? []), f]);
const kinds = [...byKind.keys()].sort();
const counts = new Map(kinds.map((k) => [k, { caught: 0, unaffected: 0, silent: 0, crash: 0 }]));
const total = Number(values.flips);
const started = performance.now();
for (let i = 0; i < total; i++) {
  const kind = kinds[i % kinds.length];
  const files = byKind.get(kind)!;
  const file = files[random(files.length)];
  const original = flip(file);
  const c = counts.get(kind)!;
  try {
    if ((await outcome()) === reference) c.unaffected++;
    else {
      c.silent++;
      console.log(`silent: ${relative(dir, file)}`);
    }
  } catch (e) {
    if (e instanceof UserError && !e.message.includes('\n')) c.caught++;
    else {
      c.crash++;
      console.log(`crash: ${relative(dir, file)}: ${(e as Error).stack}`);
    }
  } finally {
    writeFileSync(file, original);
  }
}
console.log(
  `${total} single-bit flips over ${kinds.length} file kinds of a shard store, ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
console.log('kind'.padEnd(36) + 'caught  unaffected  silent  crash');
for (const [k, c] of counts)
  console.log(
    `${k.padEnd(36)}${String(c.caught).padStart(6)}${String(c.unaffected).padStart(12)}${String(c.silent).padStart(8)}${String(c.crash).padStart(7)}`,
  );

// The checkpoint: every file that affects a result is in the checksum the caches are keyed by.
const ckpt = join(mkdtempSync(join(tmpdir(), 'shardlab-flips-')), 'model');
cpSync(values.model!, ckpt, { recursive: true });
const key = modelChecksum(ckpt);
const keyed = [...MODEL_DEFINING_FILES, ...MODEL_OPTIONAL_FILES];
let rekeyed = 0;
let missed = 0;
const ckptFlips = total;
for (let i = 0; i < ckptFlips; i++) {
  const file = join(ckpt, keyed[i % keyed.length]);
  const original = flip(file);
  if (modelChecksum(ckpt) !== key) rekeyed++;
  else missed++;
  writeFileSync(file, original);
}
console.log(`checkpoint: ${ckptFlips} flips over ${keyed.join(', ')}: ${rekeyed} change the cache key, ${missed} do not`);
