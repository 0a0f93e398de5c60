/**
 * shardlab compress: writes a model directory with a setting of RWKV-edge's techniques built in. The
 * weights are the model's own, its continually trained low-rank sibling's, or the SVD factors of its own
 * (assemble.ts says which); the trained artefacts a technique needs (MLP predictors, the head's first
 * level) are copied from where the weights came from; compression.json records the setting, so every
 * other command runs the directory with it unless told otherwise.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../../core/errors.js';
import { assemble, rwkvChecksum } from '../compress/assemble.js';
import { describeSpec, type TechniqueFlags, type TechniqueSpec } from '../compress/setting.js';
import { readRwkvConfig, writeModelDir } from '../model-dir.js';
import { COMPRESSION_FILE, settingFor } from '../open.js';

export interface CompressFlags extends TechniqueFlags {
  model: string;
  out: string;
  json?: boolean;
}

export async function runCompress(flags: CompressFlags): Promise<void> {
  refuseNonEmpty(flags.out);
  const setting = settingFor(flags.model, flags, true);
  const spec = setting.spec;
  const a = assemble(flags.model, spec);
  mkdirSync(flags.out, { recursive: true });
  if (a.lowrank?.init === 'svd') writeModelDir(flags.out, a.weights, { f16: true, tokenizer: readRwkvConfig(flags.model).tokenizer });
  else for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(a.from, f), join(flags.out, f));
  const copied = [
    'vocab.json',
    ...(spec.sparseFfn?.mlp ? ['predictors.safetensors'] : []),
    ...(spec.clusterHead ? ['cluster-head.safetensors', 'clusters.json'] : []),
  ];
  for (const f of copied) copyFileSync(join(f === 'vocab.json' ? flags.model : a.from, f), join(flags.out, f));
  const record = {
    flags: flagsOf(spec),
    from: { model: flags.model, checksum: rwkvChecksum(flags.model) },
    sources: a.sources,
    defaults: setting.defaults,
    ...(spec.int8 && { int8: 'applied when the directory is loaded: model.safetensors keeps its fp16 matrices' }),
  };
  writeFileSync(join(flags.out, COMPRESSION_FILE), JSON.stringify(record, null, 2) + '\n');
  const files = readdirSync(flags.out).map((f) => ({ file: f, bytes: statSync(join(flags.out, f)).size }));
  if (flags.json) return console.log(JSON.stringify({ out: flags.out, techniques: setting.on, ...record, files }));
  console.log(`wrote        ${flags.out}: ${describeSpec(spec)}`);
  for (const [k, v] of Object.entries(a.sources)) console.log(`  ${k.padEnd(10)} ${v}`);
  for (const d of setting.defaults) console.log(`  default    ${d.flag} ${d.value}: ${d.source}`);
  if (spec.int8) console.log(`  int8       ${record.int8}`);
  for (const f of files) console.log(`  ${f.file.padEnd(26)} ${(f.bytes / 2 ** 20).toFixed(2).padStart(8)} MiB`);
  console.log(`next         shardlab memory --model ${flags.out}; shardlab lm-eval --model ${flags.out} --split test`);
}

/** The flags that remake a spec (compression.json keeps these, parsed again when the directory is opened). */
export function flagsOf(s: TechniqueSpec): TechniqueFlags {
  const p = s.sparseFfn;
  const predictor =
    p && [p.mlp && `mlp:${p.mlp.threshold}`, p.quant && `quant:${p.quant.bits}:${p.quant.quantile.join('/')}`].filter(Boolean).join(',');
  return {
    ...(s.lowrank && { lowrank: s.lowrank.factor, lowrankKind: s.lowrank.kind }),
    ...(predictor && { predictor }),
    ...(s.embCache && { embCache: `${s.embCache.rows}:${s.embCache.policy}` }),
    ...(s.clusterHead && { headClusters: `${s.clusterHead.clusters}:${s.clusterHead.mass}` }),
    ...(s.int8 && { int8: true }),
  };
}

function refuseNonEmpty(out: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory() || readdirSync(out).length > 0)
    throw new UserError(`--out ${out}: exists and is not an empty directory; give a new directory (nothing was written)`);
}
