/** shardlab memory: an RWKV model's resident weight bytes by category, with RWKV-edge's techniques. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../../core/errors.js';
import { BUNDLED_MODELS_DIR } from '../../../core/paths.js';
import { ExperimentStore } from '../../../store/db.js';
import { accountingOf, measuredStats, type MeasuredStats } from '../compress/measured.js';
import { CATEGORIES, memoryAccount, type Category, type Dtype, type MemoryAccount, type Techniques } from '../compress/memory.js';
import { describeSpec, resolveSetting, type DefaultUsed, type Setting, type TechniqueFlags } from '../compress/setting.js';
import { readRwkvConfig } from '../model-dir.js';
import { settingFor } from '../open.js';
import { isRwkvPreset, presetDims, type RwkvDims } from '../presets.js';

export interface MemoryFlags extends TechniqueFlags {
  model: string;
  dtype: Dtype;
  predictorDensity?: number[];
  headTouched?: number;
  db?: string;
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

/** The model whose measurements a shape preset is accounted with. */
const PRESET_STATS_MODEL = join(BUNDLED_MODELS_DIR, 'rwkv5-en');

export async function runMemory(given: MemoryFlags): Promise<void> {
  const flags = statFlagsSwitchOn(given);
  const preset = isRwkvPreset(flags.model);
  const dims = modelDims(flags.model);
  // With no technique flag, memory answers for the paper's combination (or what the directory has built in).
  const setting = preset ? resolveSetting(flags, {}, true) : settingFor(flags.model, flags, true);
  const k = setting.spec.clusterHead?.clusters;
  if (k !== undefined && k > dims.vocab)
    throw new UserError(`--head-clusters ${k} is more than the vocabulary (${dims.vocab}); use at most ${dims.vocab}`);
  const d = flags.predictorDensity;
  if (d && d.length !== 1 && d.length !== dims.layers)
    throw new UserError(`--predictor-density has ${d.length} values; give one, or one per layer (${dims.layers})`);
  const stats = statsFor(flags, preset, setting);
  const acc = accountingOf(setting.spec, stats, flags, dims.layers);
  const account = memoryAccount(dims, flags.dtype, acc.techniques);
  const defaults = [...setting.defaults, ...acc.defaults];
  if (flags.json) {
    const { byCategory, denseBytes, residentBytes, ratio, stateBytes } = account;
    const out = {
      model: flags.model,
      dtype: flags.dtype,
      techniques: setting.on,
      setting: setting.spec,
      statistics: acc.techniques,
      defaults,
    };
    return console.log(JSON.stringify({ ...out, residentBytes, denseBytes, ratio, byCategory, stateBytes }));
  }
  printTable(flags, dims, setting, account, defaults, acc.techniques);
}

/** --predictor-density and --head-touched are about sparse-ffn and cluster-head, so they switch them on. */
function statFlagsSwitchOn(flags: MemoryFlags): MemoryFlags {
  const extra = [...(flags.predictorDensity ? ['sparse-ffn'] : []), ...(flags.headTouched !== undefined ? ['cluster-head'] : [])];
  if (extra.length === 0) return flags;
  const flagged = [
    ...(flags.lowrank !== undefined || flags.lowrankKind ? ['lowrank'] : []),
    ...(flags.predictor ? ['sparse-ffn'] : []),
    ...(flags.embCache ? ['emb-cache'] : []),
    ...(flags.headClusters ? ['cluster-head'] : []),
  ];
  return { ...flags, techniques: [...(flags.techniques ? [flags.techniques] : flagged), ...extra].join(',') || 'none' };
}

/** Measured statistics of the directory, or for a preset of the bundled RWKV fixture, from the store. */
function statsFor(flags: MemoryFlags, preset: boolean, setting: Setting): MeasuredStats {
  const dir = preset ? PRESET_STATS_MODEL : flags.model;
  if (!setting.spec.sparseFfn && !setting.spec.clusterHead) return {};
  if (preset && !existsSync(join(dir, 'config.json'))) return {};
  const db = ExperimentStore.open(flags.db);
  try {
    // A preset's setting is looked up as the fixture would run it.
    return measuredStats(db, dir, preset ? settingFor(dir, flags, true).spec : setting.spec);
  } finally {
    db.close();
  }
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

const MIB = 2 ** 20;
const mib = (bytes: number) => (bytes / MIB).toFixed(1).padStart(10);

function printTable(flags: MemoryFlags, dims: RwkvDims, setting: Setting, a: MemoryAccount, defaults: DefaultUsed[], t: Techniques): void {
  const kind = existsSync(flags.model) ? 'model directory' : 'shape only';
  console.log(
    `model        ${flags.model} (${kind}: RWKV ${dims.version}, ${dims.layers} layers, D ${dims.embd}, FFN ${dims.ffn}, vocab ${dims.vocab})`,
  );
  console.log(`techniques   ${describeSpec(setting.spec)}; ${flags.dtype}`);
  if (t.sparseFfn) {
    const d = t.sparseFfn.density.value;
    const shown = Array.isArray(d) ? d.map((x) => x.toFixed(3)).join(', ') : d.toFixed(3);
    console.log(`FFN density  ${shown}: ${t.sparseFfn.density.source}`);
  }
  if (t.clusterHead) console.log(`head read    ${t.clusterHead.touched.value.toFixed(3)}: ${t.clusterHead.touched.source}`);
  console.log(`\n${'category'.padEnd(24)}${'dense MiB'.padStart(10)}${'resident'.padStart(10)}`);
  for (const c of CATEGORIES) console.log(`${LABELS[c].padEnd(24)}${mib(a.byCategory[c].dense)}${mib(a.byCategory[c].resident)}`);
  console.log(
    `${'total (weights)'.padEnd(24)}${mib(a.denseBytes)}${mib(a.residentBytes)}   ${a.ratio.toFixed(2)}× less than dense ${flags.dtype}`,
  );
  console.log(`${'state (fp32, apart)'.padEnd(24)}${mib(a.stateBytes)}${mib(a.stateBytes)}`);
  if (defaults.length === 0) return;
  console.log('\ndefaults used (flags not given):');
  for (const d of defaults) console.log(`  ${d.flag} ${d.value}: ${d.source}`);
}
