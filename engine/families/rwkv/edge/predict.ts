/**
 * A setting's predicted per-token latency and memory on an SoC, without running it: the same task graph a
 * run executes (tokens.ts), placed at modeled durations with the token's expected sizes (the predictors'
 * measured density per layer, the head's measured share of rows, the embedding cache's hit rate on the
 * held-out text). Microseconds per setting, so planners and sweeps can ask for thousands.
 */
import { placeTasks, type GraphTask } from '../../../pipeline/task-graph.js';
import type { TraceEvent } from '../../../pipeline/trace.js';
import type { MemoryCategory } from '../../../pipeline/memory.js';
import type { CostModel } from '../../../soc/cost.js';
import type { RwkvDims } from '../presets.js';
import { memoryOf, residentOf, type Resident } from './resident.js';
import { TokenCosts, TokenGraph, type EdgeSetting, type TokenSizes } from './tokens.js';

/** What a prediction needs to know that shapes do not say, each with where it comes from. */
export interface EdgeStats {
  /** Per layer (or one for all): the fraction of FFN neurons the predictors pick. */
  density: number | number[];
  /** The fraction of the head's rows the hierarchical head reads per token. */
  headTouched: number;
  /** The embedding cache's hit rate at the setting's size. */
  embHitRate: number;
  sources: { density?: string; headTouched?: string; embHitRate?: string };
}

export interface EdgePrediction {
  /** Steady-state time per generated token, ms. */
  tokenMs: number;
  tokensPerSecond: number;
  /** The first token from a cold start (nothing in flight), ms. */
  firstTokenMs: number;
  stallMsPerToken: number;
  ioBytesPerToken: number;
  persistentBytes: number;
  peakBytes: number;
  resident: Resident;
  memoryByCategory: Partial<Record<MemoryCategory, { persistent: number; peak: number }>>;
  /** The events of the tokens placed (the last one is the steady state), each with its token index. */
  events: TraceEvent[];
}

/**
 * Tokens placed: the first from cold, then one in the steady state (a token overlaps the one before only
 * through the dense stream's two read buffers, less than a token ahead; a test checks the steady state
 * against every token of a run).
 */
const TOKENS = 2;

export function expectedSizes(dims: RwkvDims, setting: EdgeSetting, stats: EdgeStats): TokenSizes {
  const { spec, stream } = setting;
  const density = (l: number) => (Array.isArray(stats.density) ? (stats.density[l] ?? stats.density[0]!) : stats.density);
  const embRows = spec.embCache ? 1 - stats.embHitRate : stream ? 1 : 0;
  return {
    embRows,
    neurons: Array.from({ length: dims.layers }, (_, l) => (spec.sparseFfn ? density(l) * dims.ffn : dims.ffn)),
    headRows: spec.clusterHead ? stats.headTouched * dims.vocab : dims.vocab,
  };
}

export function predictEdge(cost: CostModel, dims: RwkvDims, setting: EdgeSetting, stats: EdgeStats): EdgePrediction {
  const costs = new TokenCosts(cost, dims, setting);
  const graph = new TokenGraph(costs);
  const sizes = expectedSizes(dims, setting, stats);
  const tasks: GraphTask[] = [];
  const heads: number[] = [];
  for (let t = 0; t < TOKENS; t++) {
    tasks.push(...graph.tokenTasks(t, sizes));
    heads.push(graph.lastTask);
  }
  const ends: number[] = [];
  const timeline = placeTasks(tasks, ends);
  const last = TOKENS - 1;
  const tokenUs = ends[heads[last]!]! - ends[heads[last - 1]!]!;
  const inToken = (t: number) => timeline.events.filter((e) => e.token === t);
  const stallUs = inToken(last)
    .filter((e) => e.stage === 'stall')
    .reduce((a, e) => a + e.end - e.start, 0);
  const ioBytes = inToken(last)
    .filter((e) => e.stage === 'io')
    .reduce((a, e) => a + e.bytes, 0);
  const resident = residentOf(dims, setting);
  const mem = memoryOf(resident, tasks, ends, graph.memory).summary();
  return {
    tokenMs: tokenUs / 1000,
    tokensPerSecond: 1e6 / tokenUs,
    firstTokenMs: ends[heads[0]!]! / 1000,
    stallMsPerToken: stallUs / 1000,
    ioBytesPerToken: ioBytes,
    persistentBytes: resident.total,
    peakBytes: resident.total + mem.peakTransient,
    resident,
    memoryByCategory: mem.byCategory,
    events: timeline.events,
  };
}
