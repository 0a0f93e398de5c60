/**
 * Which of RWKV-edge's techniques a command runs with, and with what parameters: one parser of the same
 * flags for compress, memory and lm-eval. A technique is on when --techniques names it, when its own flag
 * is given, or when the model directory has it built in (compression.json, or config.json's "lowrank");
 * whatever is on but not given takes the paper's deployed setting (rwkv-edge.md §3.6), named with its
 * source in `defaults`.
 */
import { UserError } from '../../../core/errors.js';
import { parseHeadClusters, PAPER_CLUSTER_MASS, type ClusterHeadSetting } from '../cluster-head.js';
import { parsePredictor, PAPER_MLP_THRESHOLD, PAPER_QUANT_PREDICTOR, type SparseFfn } from '../sparse-ffn.js';
import type { EvictionPolicy } from './emb-cache.js';
import type { LowRankKind } from './lowrank.js';

export const TECHNIQUES = ['lowrank', 'sparse-ffn', 'emb-cache', 'cluster-head', 'int8'] as const;
export type Technique = (typeof TECHNIQUES)[number];

/** `all`: the paper's combination, whose 3.4–5× is in fp16; INT8 goes on top of it (§3.5), by name. */
const ALL: readonly Technique[] = ['lowrank', 'sparse-ffn', 'emb-cache', 'cluster-head'];

/** What a model runs with: each technique present is on. */
export interface TechniqueSpec {
  /** `init: 'svd'` insists on the untrained SVD factors even where a trained sibling exists (assemble.ts). */
  lowrank?: { factor: number; kind: LowRankKind; init?: 'svd' };
  sparseFfn?: SparseFfn;
  embCache?: { rows: number; policy: EvictionPolicy };
  clusterHead?: ClusterHeadSetting;
  int8?: boolean;
}

/** The technique flags as the CLI parses them (strings where the value has a grammar of its own). */
export interface TechniqueFlags {
  techniques?: string;
  lowrank?: number;
  lowrankKind?: LowRankKind;
  lowrankInit?: 'auto' | 'svd';
  predictor?: string;
  embCache?: string;
  headClusters?: string;
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
  spec: TechniqueSpec;
  defaults: DefaultUsed[];
}

const DEPLOYED = "the paper's deployed setting (§3.6)";

/**
 * Resolves the flags against what the model has built in. `defaultAll`: with no technique flag at all and
 * nothing built in, the paper's combination (memory's question); otherwise nothing (the dense model).
 */
export function resolveSetting(flags: TechniqueFlags, built: TechniqueSpec = {}, defaultAll = false): Setting {
  const on = switchedOn(flags, built, defaultAll);
  const defaults: DefaultUsed[] = [];
  const pick = <T>(given: T | undefined, base: T | undefined, paper: T, flag: string, shown: string, source: string): T => {
    if (given !== undefined) return given;
    if (base !== undefined) return base;
    defaults.push({ flag, value: shown, source });
    return paper;
  };
  const spec: TechniqueSpec = {};
  if (on.has('lowrank')) spec.lowrank = lowRank(flags, built, pick);
  if (on.has('sparse-ffn')) {
    const paper: SparseFfn = { mlp: { threshold: PAPER_MLP_THRESHOLD }, quant: PAPER_QUANT_PREDICTOR };
    const given = flags.predictor === undefined ? undefined : parsePredictor(flags.predictor);
    spec.sparseFfn = pick(
      given,
      built.sparseFfn,
      paper,
      '--predictor',
      'mlp:0.7,quant:1:0.95',
      `${DEPLOYED}: mlp_map 0.7, 1-bit quant_map 0.95`,
    );
  }
  if (on.has('emb-cache')) {
    const given = flags.embCache === undefined ? undefined : parseEmbCache(flags.embCache);
    spec.embCache = pick(given, built.embCache, { rows: 1000, policy: 'fifo' }, '--emb-cache', '1000:fifo', "the reference's cache (§3.3)");
  }
  if (on.has('cluster-head')) {
    const given = flags.headClusters === undefined ? undefined : parseHeadClusters(flags.headClusters);
    const paper = { clusters: 200, mass: PAPER_CLUSTER_MASS };
    spec.clusterHead = pick(given, built.clusterHead, paper, '--head-clusters', '200:0.95', "the paper's K and mass (§3.4)");
  }
  if (on.has('int8')) spec.int8 = true;
  return { on: TECHNIQUES.filter((t) => on.has(t)), spec, defaults };
}

type Pick = <T>(given: T | undefined, base: T | undefined, paper: T, flag: string, shown: string, source: string) => T;

function lowRank(flags: TechniqueFlags, built: TechniqueSpec, pick: Pick): NonNullable<TechniqueSpec['lowrank']> {
  const b = built.lowrank;
  if (b && flags.lowrank !== undefined && flags.lowrank !== b.factor)
    throw new UserError(`the model is factored at f = ${b.factor} (config.json "lowrank"); --lowrank ${flags.lowrank} cannot change that`);
  if (b && flags.lowrankKind !== undefined && flags.lowrankKind !== b.kind)
    throw new UserError(
      `the model is factored as ${b.kind} (config.json "lowrank"); --lowrank-kind ${flags.lowrankKind} cannot change that`,
    );
  const factor = pick(flags.lowrank, b?.factor, 8, '--lowrank', '8', "the paper's default factor (§3.1, §3.6)");
  const kind = pick(flags.lowrankKind, b?.kind, 'relu2' as LowRankKind, '--lowrank-kind', 'relu2', `${DEPLOYED}: the x059 checkpoint`);
  if (flags.lowrankInit === 'svd' && b) throw new UserError('--lowrank-init svd: the model is factored already; give its dense original');
  return { factor, kind, ...(flags.lowrankInit === 'svd' && { init: 'svd' as const }) };
}

function switchedOn(flags: TechniqueFlags, built: TechniqueSpec, defaultAll: boolean): Set<Technique> {
  const byFlag: Technique[] = [];
  if (flags.lowrank !== undefined || flags.lowrankKind !== undefined || flags.lowrankInit === 'svd') byFlag.push('lowrank');
  if (flags.predictor !== undefined) byFlag.push('sparse-ffn');
  if (flags.embCache !== undefined) byFlag.push('emb-cache');
  if (flags.headClusters !== undefined) byFlag.push('cluster-head');
  if (flags.int8) byFlag.push('int8');
  const builtIn = techniquesOf(built);
  const base =
    flags.techniques !== undefined ? parseTechniques(flags.techniques) : byFlag.length || builtIn.length || !defaultAll ? [] : ALL;
  // A factored model stays factored whatever --techniques says: its weights are the factors.
  return new Set([...base, ...byFlag, ...(flags.techniques === undefined ? builtIn : []), ...(built.lowrank ? ['lowrank' as const] : [])]);
}

/** The techniques a spec has on. */
export function techniquesOf(spec: TechniqueSpec): Technique[] {
  const has: Record<Technique, boolean> = {
    lowrank: !!spec.lowrank,
    'sparse-ffn': !!spec.sparseFfn,
    'emb-cache': !!spec.embCache,
    'cluster-head': !!spec.clusterHead,
    int8: !!spec.int8,
  };
  return TECHNIQUES.filter((t) => has[t]);
}

/** `--techniques all | none | a comma list` (the list may include `all`, e.g. all,int8). */
function parseTechniques(list: string): readonly Technique[] {
  if (list === 'none') return [];
  const names = list.split(',').map((s) => s.trim());
  const bad = names.find((n) => n !== 'all' && !(TECHNIQUES as readonly string[]).includes(n));
  if (bad !== undefined)
    throw new UserError(`--techniques: unknown technique "${bad}"; use all, none or a comma list of ${TECHNIQUES.join(', ')}`);
  return names.flatMap((n) => (n === 'all' ? ALL : [n as Technique]));
}

/** `--emb-cache N[:fifo|lru]`. */
export function parseEmbCache(value: string): { rows: number; policy: EvictionPolicy } {
  const [n, policy = 'fifo'] = value.split(':');
  const rows = Number(n);
  if (!Number.isInteger(rows) || rows < 1 || (policy !== 'fifo' && policy !== 'lru'))
    throw new UserError(`--emb-cache "${value}": use N[:fifo|lru], N rows cached (1 or more), e.g. 1000 or 1000:lru`);
  return { rows, policy };
}

/** One line naming each technique of a spec with its parameters. */
export function describeSpec(s: TechniqueSpec): string {
  const parts: string[] = [];
  if (s.lowrank) parts.push(`low-rank ${s.lowrank.kind} f = ${s.lowrank.factor}${s.lowrank.init === 'svd' ? ' (SVD, untrained)' : ''}`);
  if (s.sparseFfn) {
    const p = s.sparseFfn;
    const q = p.quant && `${p.quant.bits}-bit key copy at quantile ${p.quant.quantile.join('/')}`;
    const m = p.mlp && `MLP at θ ${p.mlp.threshold}`;
    parts.push(`sparse FFN (${[m, q].filter(Boolean).join(' OR ')})`);
  }
  if (s.clusterHead) parts.push(`hierarchical head (K ${s.clusterHead.clusters}, mass ${s.clusterHead.mass})`);
  if (s.embCache) parts.push(`embedding cache ${s.embCache.rows} rows ${s.embCache.policy.toUpperCase()}`);
  if (s.int8) parts.push('INT8');
  return parts.length ? parts.join(', ') : 'none (dense)';
}
