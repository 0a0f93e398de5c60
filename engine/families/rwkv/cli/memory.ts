/** shardlab memory: an RWKV model's resident weight bytes by category, with RWKV-edge's techniques. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { shown, UserError } from '../../../core/errors.js';
import { CATEGORIES, memoryAccount, type Category, type Dtype, type MemoryAccount } from '../compress/memory.js';
import { resolveSetting, type BuiltIn, type Setting, type TechniqueFlags } from '../compress/setting.js';
import { readRwkvConfig } from '../model-dir.js';
import { isRwkvPreset, presetDims, type RwkvDims } from '../presets.js';

export interface MemoryFlags extends TechniqueFlags {
  model: string;
  dtype: Dtype;
  json?: boolean;
}

const LABELS: Record<Category, string> = {
  attention: 'attention (r k v g o)',
  ffnKeyValue: 'FFN key + value',
  ffnReceptance: 'FFN receptance',
  predictors: 'FFN predictors',
  head: 'head',
  embedding: 'embedding',
  vectors: 'LayerNorms, vectors',
};

export async function runMemory(flags: MemoryFlags): Promise<void> {
  const dims = modelDims(flags.model);
  const setting = resolveSetting(flags, dims, builtIn(flags.model));
  const account = memoryAccount(dims, flags.dtype, setting.techniques);
  if (flags.json) {
    const { byCategory, denseBytes, residentBytes, ratio, stateBytes } = account;
    const out = { model: flags.model, dtype: flags.dtype, techniques: setting.on, setting: setting.techniques, defaults: setting.defaults };
    return console.log(JSON.stringify({ ...out, residentBytes, denseBytes, ratio, byCategory, stateBytes }));
  }
  printTable(flags, dims, setting, account);
}

/** A preset's shape, or a model directory's from its config.json (its weights are not read). */
function modelDims(model: string): RwkvDims {
  if (isRwkvPreset(model)) return presetDims(model);
  if (!statSync(model).isDirectory())
    throw new UserError(`${model}: shardlab memory reads a model directory's config.json or a preset, not an rwkv.cpp file`);
  const c = readRwkvConfig(model);
  const heads = c.version === '4' ? 1 : c.n_embd / c.head_size!;
  return { version: c.version, layers: c.n_layer, embd: c.n_embd, heads, headSize: c.n_embd / heads, ffn: c.dim_ffn, vocab: c.vocab_size };
}

/** A low-rank directory's factor (lowrank-model.ts writes it into config.json). */
function builtIn(model: string): BuiltIn {
  if (isRwkvPreset(model)) return {};
  const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as { lowrank?: { factor?: unknown } };
  const factor = config.lowrank?.factor;
  if (config.lowrank === undefined) return {};
  if (typeof factor !== 'number' || !(factor >= 1))
    throw new UserError(`${join(model, 'config.json')}: lowrank.factor is ${shown(factor)}; expected a number >= 1`);
  return { lowrankFactor: factor };
}

const MIB = 2 ** 20;
const mib = (bytes: number) => (bytes / MIB).toFixed(1).padStart(10);

function printTable(flags: MemoryFlags, dims: RwkvDims, setting: Setting, a: MemoryAccount): void {
  const kind = existsSync(flags.model) ? 'model directory' : 'shape only';
  console.log(
    `model        ${flags.model} (${kind}: RWKV ${dims.version}, ${dims.layers} layers, D ${dims.embd}, FFN ${dims.ffn}, vocab ${dims.vocab})`,
  );
  console.log(`techniques   ${describeSetting(setting)}; ${flags.dtype}`);
  console.log(`\n${'category'.padEnd(24)}${'dense MiB'.padStart(10)}${'resident'.padStart(10)}`);
  for (const c of CATEGORIES) console.log(`${LABELS[c].padEnd(24)}${mib(a.byCategory[c].dense)}${mib(a.byCategory[c].resident)}`);
  console.log(
    `${'total (weights)'.padEnd(24)}${mib(a.denseBytes)}${mib(a.residentBytes)}   ${a.ratio.toFixed(2)}× less than dense ${flags.dtype}`,
  );
  console.log(`${'state (fp32, apart)'.padEnd(24)}${mib(a.stateBytes)}${mib(a.stateBytes)}`);
  if (setting.defaults.length === 0) return;
  console.log('\ndefaults used (flags not given):');
  for (const d of setting.defaults) console.log(`  ${d.flag} ${d.value}: ${d.source}`);
}

function describeSetting(s: Setting): string {
  const t = s.techniques;
  const parts: string[] = [];
  if (t.lowrank) parts.push(`low-rank f = ${t.lowrank.factor}`);
  if (t.sparseFfn) {
    const d = t.sparseFfn.density.value;
    parts.push(`sparse FFN (1-bit key copy + MLP, density ${Array.isArray(d) ? 'per layer' : d})`);
  }
  if (t.clusterHead)
    parts.push(`clustered head (K ${t.clusterHead.clusters}, ${(100 * t.clusterHead.touched.value).toFixed(0)} % touched)`);
  if (t.embCache) parts.push(`embedding cache ${t.embCache.rows} rows`);
  if (t.int8) parts.push('INT8');
  return parts.length ? parts.join(', ') : 'none (dense)';
}
