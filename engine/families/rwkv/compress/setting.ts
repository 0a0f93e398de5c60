/**
 * Which of RWKV-edge's techniques are on, with what parameters: from the command line's flags, with the
 * paper's defaults (§3.6, §4) for whatever is not given, each default named with its source.
 */
import { UserError } from '../../../core/errors.js';
import type { RwkvDims } from '../presets.js';
import type { Techniques } from './memory.js';

export const TECHNIQUES = ['lowrank', 'sparse-ffn', 'emb-cache', 'cluster-head', 'int8'] as const;
export type Technique = (typeof TECHNIQUES)[number];

/** `all`: the paper's combination, whose 3.4–5× is in fp16; INT8 is on top of it (§3.5). */
const ALL: readonly Technique[] = ['lowrank', 'sparse-ffn', 'emb-cache', 'cluster-head'];

export interface TechniqueFlags {
  techniques?: string;
  lowrank?: number;
  predictorDensity?: number[];
  embCache?: number;
  headTouched?: number;
  headClusters?: number;
  int8?: boolean;
}

/** A default the setting used because its flag was not given. */
export interface DefaultUsed {
  flag: string;
  value: string;
  source: string;
}

export interface Setting {
  on: Technique[];
  techniques: Techniques;
  defaults: DefaultUsed[];
}

const PAPER = 'RWKV-edge §4 assumption until shardlab measures it on this model';

/** Techniques a model directory already has built in (config.json's "lowrank": its factor). */
export interface BuiltIn {
  lowrankFactor?: number;
}

export function resolveSetting(flags: TechniqueFlags, dims: RwkvDims, built: BuiltIn = {}): Setting {
  const on = switchedOn(flags);
  if (built.lowrankFactor !== undefined) {
    if (flags.lowrank !== undefined && flags.lowrank !== built.lowrankFactor)
      throw new UserError(
        `the model is factored at f = ${built.lowrankFactor} (config.json "lowrank"); --lowrank ${flags.lowrank} cannot change that`,
      );
    on.add('lowrank');
  }
  const defaults: DefaultUsed[] = [];
  const given = <T>(value: T | undefined, fallback: T, flag: string, shown: string, source: string): T => {
    if (value !== undefined) return value;
    defaults.push({ flag, value: shown, source });
    return fallback;
  };
  const t: Techniques = {};
  if (on.has('lowrank')) {
    const f = built.lowrankFactor;
    const source = f === undefined ? "the paper's default factor (§3.1, §3.6)" : 'config.json "lowrank": the directory is factored';
    t.lowrank = { factor: given(flags.lowrank, f ?? 8, '--lowrank', String(f ?? 8), source) };
  }
  if (on.has('sparse-ffn')) {
    const density = given(flags.predictorDensity, [0.25], '--predictor-density', '0.25', `${PAPER} (25 % of FFN key/value resident)`);
    if (density.length !== 1 && density.length !== dims.layers)
      throw new UserError(`--predictor-density has ${density.length} values; give one, or one per layer (${dims.layers})`);
    const source = flags.predictorDensity ? 'given (--predictor-density)' : PAPER;
    t.sparseFfn = { density: { value: density.length === 1 ? density[0] : density, source }, predictorBits: 1, mlpHidden: 64 };
  }
  if (on.has('cluster-head')) {
    const clusters = given(flags.headClusters, 200, '--head-clusters', '200', "the paper's K (§3.4)");
    if (clusters > dims.vocab)
      throw new UserError(`--head-clusters ${clusters} is more than the vocabulary (${dims.vocab}); use at most ${dims.vocab}`);
    const src = "§3.4: the 0.1B model touches about 35 of 200 clusters, 13 % of the head, per token (authors' notes)";
    const touched = given(flags.headTouched, 0.13, '--head-touched', '0.13', src);
    t.clusterHead = { clusters, touched: { value: touched, source: flags.headTouched === undefined ? src : 'given (--head-touched)' } };
  }
  if (on.has('emb-cache'))
    t.embCache = { rows: given(flags.embCache, 1000, '--emb-cache', '1000', "the reference's cache capacity (§3.3)") };
  if (on.has('int8')) t.int8 = true;
  return { on: TECHNIQUES.filter((x) => on.has(x)), techniques: t, defaults };
}

/** --techniques (default: all but INT8, or none when a technique flag is given), plus every technique a flag names. */
function switchedOn(flags: TechniqueFlags): Set<Technique> {
  const byFlag: Technique[] = [];
  if (flags.lowrank !== undefined) byFlag.push('lowrank');
  if (flags.predictorDensity !== undefined) byFlag.push('sparse-ffn');
  if (flags.embCache !== undefined) byFlag.push('emb-cache');
  if (flags.headTouched !== undefined || flags.headClusters !== undefined) byFlag.push('cluster-head');
  if (flags.int8) byFlag.push('int8');
  const base = flags.techniques === undefined ? (byFlag.length ? [] : ALL) : parseTechniques(flags.techniques);
  return new Set([...base, ...byFlag]);
}

function parseTechniques(list: string): readonly Technique[] {
  if (list === 'all') return ALL;
  if (list === 'none') return [];
  const names = list.split(',').map((s) => s.trim());
  const bad = names.find((n) => !(TECHNIQUES as readonly string[]).includes(n));
  if (bad !== undefined)
    throw new UserError(`--techniques: unknown technique "${bad}"; use all, none or a comma list of ${TECHNIQUES.join(', ')}`);
  return names as Technique[];
}
