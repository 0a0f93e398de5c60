/**
 * An RWKV model directory opened for language modelling with a setting of RWKV-edge's techniques: the
 * weights and artefacts the setting needs (compress/assemble.ts) on the step-graph runner, its tokenizer,
 * and the checksum and key its quality answers are cached under.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseJson, UserError } from '../../core/errors.js';
import { assemble, qualityKey, rwkvChecksum, type Assembled } from './compress/assemble.js';
import { resolveSetting, type Setting, type TechniqueFlags, type TechniqueSpec } from './compress/setting.js';
import { readRwkvConfig } from './model-dir.js';
import { RwkvRunner } from './runner.js';
import { RwkvTokenizer } from './tokenizer.js';
import type { RwkvWeights } from './weights.js';

export type { TechniqueSpec as Techniques };

export interface RwkvLm {
  dir: string;
  techniques: TechniqueSpec;
  /** What the quality of this setting is cached under, beside the checksum (assemble.ts qualityKey). */
  qualityKey: object;
  /** Where each technique's weights and artefacts came from. */
  sources: Record<string, string>;
  checksum: string;
  weights: Omit<RwkvWeights, 'tensors'>;
  tokenizer: RwkvTokenizer;
  runner: RwkvRunner;
  release(): Promise<void>;
}

/** Refuses a path that is not a model directory (an rwkv.cpp .bin file runs only under logits). */
export function requireModelDir(dir: string, command: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UserError(
      `${dir}: ${command} needs an RWKV model directory (config.json, model.safetensors, vocab.json), not an rwkv.cpp file`,
    );
}

/** compression.json, written by shardlab compress: the technique flags the directory was made with. */
export const COMPRESSION_FILE = 'compression.json';

/** The techniques a directory has built in: compression.json's flags and config.json's "lowrank". */
export function builtInTechniques(dir: string): TechniqueSpec {
  const config = readRwkvConfig(dir);
  const file = join(dir, COMPRESSION_FILE);
  let spec: TechniqueSpec = {};
  if (existsSync(file)) {
    const j = parseJson(readFileSync(file, 'utf8'), file, 'remake the directory with shardlab compress') as { flags?: unknown };
    if (typeof j?.flags !== 'object' || j.flags === null)
      throw new UserError(`${file}: expected {"flags": {...}}; remake it with shardlab compress`);
    try {
      spec = resolveSetting({ techniques: 'none', ...(j.flags as TechniqueFlags) }).spec;
    } catch (e) {
      throw e instanceof UserError ? new UserError(`${file}: ${e.message}`) : e;
    }
  }
  return config.lowrank ? { ...spec, lowrank: { factor: config.lowrank.factor, kind: config.lowrank.kind } } : spec;
}

/** The command line's technique flags resolved against what the directory has built in. */
export function settingFor(dir: string, flags: TechniqueFlags, defaultAll = false): Setting {
  return resolveSetting(flags, builtInTechniques(dir), defaultAll);
}

export async function openRwkvDir(
  dir: string,
  opts: { threads?: number; techniques?: TechniqueSpec; onAssembled?: (a: Assembled) => void } = {},
): Promise<RwkvLm> {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UserError(
      `${dir}: not an RWKV model directory; lm-eval and generate need one (config.json, model.safetensors, vocab.json), not an rwkv.cpp file`,
    );
  const vocabFile = join(dir, 'vocab.json');
  if (!existsSync(vocabFile)) throw new UserError(`${vocabFile}: missing; an RWKV model directory needs its tokenizer's vocab.json`);
  const techniques = opts.techniques ?? builtInTechniques(dir);
  const a = assemble(dir, techniques);
  opts.onAssembled?.(a);
  const tokenizer = RwkvTokenizer.fromFile(vocabFile);
  if (tokenizer.vocabSize !== a.weights.vocab)
    throw new UserError(`${vocabFile}: ${tokenizer.vocabSize} tokens, but the model's vocabulary is ${a.weights.vocab}; they must match`);
  const clusterHead = a.clusterHead && { head: a.clusterHead, mass: techniques.clusterHead!.mass };
  const runner = await RwkvRunner.open(a.weights, {
    threads: opts.threads,
    sparseFfn: techniques.sparseFfn,
    predictors: a.predictors,
    clusterHead,
    int8: techniques.int8,
  });
  return {
    dir,
    techniques,
    qualityKey: qualityKey(techniques, a.lowrank),
    sources: a.sources,
    checksum: rwkvChecksum(dir),
    weights: runner.model,
    tokenizer,
    runner,
    release: () => runner.release(),
  };
}
