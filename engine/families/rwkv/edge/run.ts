/**
 * RWKV-edge generating for real on a modeled SoC, token by token (tokens.ts says what each token does):
 * the IO lane really reads, from the store's files (store.ts), the embedding rows the cache misses, the
 * FFN neurons each layer's predictor picked, the head rows of the clusters the first level chose (or, for
 * the dense model streamed, every layer and the head); the CPU lane really decodes what was read (INT8
 * dequantization, fp16 to fp32). Compute is the model's onnxruntime step: one run per token of the step
 * graph, which also gives the predictors' picks and the head's clusters that the token's reads need. It
 * runs as soon as the token is known (the previous token's logits), ahead of the token's modeled slot, so
 * in real time it overlaps the modeled waits; the modeled per-layer times of the cost model place it.
 */
import { runTaskGraph, type GraphTask } from '../../../pipeline/task-graph.js';
import type { Clock } from '../../../pipeline/clock.js';
import type { Overrun } from '../../../pipeline/executor.js';
import type { MemoryCategory, MemorySample } from '../../../pipeline/memory.js';
import type { TraceEvent } from '../../../pipeline/trace.js';
import type { CostModel } from '../../../soc/cost.js';
import { argmax } from '../compare.js';
import { EmbeddingCache, type CacheStats } from '../compress/emb-cache.js';
import type { RwkvLm } from '../open.js';
import { memoryOf, residentOf, type Resident } from './resident.js';
import { decodeVectors, vectorBytes, type EdgeStore, type EdgeFile, type Region } from './store.js';
import { TokenCosts, TokenGraph, type EdgeSetting, type TokenSizes } from './tokens.js';

export interface EdgeRunInput {
  lm: RwkvLm;
  store: EdgeStore;
  setting: EdgeSetting;
  cost: CostModel;
  clock: Clock;
  /** The tokens fed before generating (end-of-text first). */
  prompt: number[];
  /** Tokens to generate (greedy). */
  count: number;
  onEvent?: (e: TraceEvent) => void;
  /** Each generated token as the run reaches it in modeled time. */
  onToken?: (t: { index: number; id: number; text: string; atUs: number }) => void;
}

export interface EdgeRunResult {
  /** Per step (each token fed): its phase and the modeled time its next-token logits were ready. */
  steps: { id: number; phase: 'prompt' | 'generated'; endUs: number }[];
  generated: number[];
  text: string;
  events: TraceEvent[];
  memory: MemorySample[];
  memoryByCategory: Partial<Record<MemoryCategory, { persistent: number; peak: number }>>;
  makespanUs: number;
  stallUs: number;
  ioBytes: number;
  tokensPerSecond: number;
  tokenLatencyMsP50: number;
  tokenLatencyMsP99: number;
  firstTokenMs: number;
  stallMs: number;
  ioBytesPerToken: number;
  persistentBytes: number;
  peakBytes: number;
  resident: Resident;
  embCache?: CacheStats;
  overruns: Overrun[];
}

interface Pending {
  file: EdgeFile;
  regions: Region[];
}

export async function runEdge(input: EdgeRunInput): Promise<EdgeRunResult> {
  const { lm, store, setting, cost, clock, prompt, count } = input;
  const { spec } = setting;
  if (prompt.length === 0 || count < 1) throw new Error('runEdge: a prompt of at least one token and one token to generate');
  const dims = lm.weights;
  const costs = new TokenCosts(
    cost,
    dims,
    setting,
    store.manifest.core.map((c) => c.region.length),
  );
  const graph = new TokenGraph(costs);
  const cache = spec.embCache && new EmbeddingCache(spec.embCache.rows, spec.embCache.policy);
  const steps = prompt.length + count - 1;
  const generated: number[] = [];
  const ids: number[] = [];
  const heads: number[] = [];
  const allTasks: GraphTask[] = [];
  const reads = new Map<number, Pending>();
  const buffers = new Map<number, Buffer>();
  const decoded = new Map<number, unknown>();
  let scratch = new Float32Array(0);
  const ends: number[] = [];
  const F = dims.ffn;

  async function batch(b: number): Promise<GraphTask[] | undefined> {
    if (b >= steps) return undefined;
    const id = b < prompt.length ? prompt[b]! : generated[b - prompt.length]!;
    ids.push(id);
    const logits = await lm.runner.step(id);
    if (b >= prompt.length - 1) generated.push(argmax(logits));
    const mask = lm.runner.lastFfnMask;
    const chosen = lm.runner.lastHeadChosen;
    const neurons = Array.from({ length: dims.layers }, (_, l) => {
      if (!spec.sparseFfn) return F;
      let n = 0;
      for (let i = l * F; i < (l + 1) * F; i++) n += mask![i]!;
      return n;
    });
    const sizes: TokenSizes = {
      embRows: cache ? (cache.lookup(id) ? 0 : 1) : setting.stream ? 1 : 0,
      neurons,
      headRows: spec.clusterHead ? store.clusterRows(chosen!) : dims.vocab,
    };
    const first = graph.lastTask + 1;
    const tasks = graph.tokenTasks(b, sizes);
    heads.push(graph.lastTask);
    tasks.forEach((t, i) => {
      const kind = graph.what.get(first + i);
      if (t.stage !== 'io' || !kind) return;
      const l = t.layer;
      const pending: Pending =
        kind === 'emb'
          ? { file: 'emb.bin', regions: [store.embRegion(id)] }
          : kind === 'core'
            ? { file: 'core.bin', regions: [store.coreRegion(l)] }
            : kind === 'ffn'
              ? { file: 'ffn.bin', regions: store.neuronRegions(l) }
              : kind === 'ffn-rows'
                ? { file: 'ffn.bin', regions: store.neuronRegions(l, mask, l * F) }
                : { file: 'head.bin', regions: store.headRegions(kind === 'head-rows' ? chosen : undefined) };
      reads.set(first + i, pending);
    });
    allTasks.push(...tasks);
    return tasks;
  }

  function work(id: number, t: GraphTask): void {
    const pending = reads.get(id);
    if (pending) {
      const data = store.read(pending.file, pending.regions);
      // The modeled read and the real one are the same bytes.
      if (data.length !== t.bytes)
        throw new Error(`runEdge: ${t.part} read of layer ${t.layer} is ${data.length} bytes, modeled ${t.bytes}`);
      buffers.set(id, data);
      reads.delete(id);
      return;
    }
    const d = graph.memory.get(id)?.decodes;
    if (d && t.stage === 'decompress') {
      const data = buffers.get(d.read)!;
      buffers.delete(d.read);
      const kind = graph.what.get(id);
      // One scratch buffer, grown to the largest decode: the decoded weights are the compute's input on a
      // device; here the onnxruntime session holds its own copy, so reusing it keeps the host's GC out of the timing.
      if (scratch.length < d.decodedBytes / 4) scratch = new Float32Array(d.decodedBytes / 4);
      decoded.set(
        d.consumer,
        kind === 'core' ? store.decodeCore(t.layer, data, scratch) : store.decode(data, kind === 'emb' ? false : undefined, scratch),
      );
    }
  }

  warmDecode();
  lm.runner.reset(); // every run generates from the zero state, whatever the runner ran before
  const r = await runTaskGraph({
    clock,
    batch,
    work,
    onEvent: input.onEvent,
    done: (id, _t, end) => {
      ends[id] = end;
      decoded.delete(id); // a compute consumed its decoded rows: freed
      const step = heads.indexOf(id);
      if (step >= prompt.length - 1 && input.onToken) {
        const k = step - (prompt.length - 1);
        input.onToken({ index: k, id: generated[k]!, text: lm.tokenizer.decode([generated[k]!]), atUs: clock.now() });
      }
    },
  });
  const placed = r.events.filter((e) => e.stage !== 'stall');
  const resident = residentOf(dims, setting);
  const mem = memoryOf(resident, allTasks, ends, graph.memory).summary();
  const stepEnds = heads.map((h) => ends[h]!);
  const genEnds = stepEnds.slice(prompt.length - 1);
  const latencies = genEnds.map((e, k) => e - (k === 0 ? (stepEnds[prompt.length - 2] ?? 0) : genEnds[k - 1]!));
  const ioBytes = placed.filter((e) => e.stage === 'io').reduce((a, e) => a + e.bytes, 0);
  const decodeSpan = genEnds[genEnds.length - 1]! - genEnds[0]!;
  return {
    steps: ids.map((id, b) => ({ id, phase: b < prompt.length ? 'prompt' : 'generated', endUs: stepEnds[b]! })),
    generated,
    text: lm.tokenizer.decode(generated),
    events: r.events,
    memory: mem.samples,
    memoryByCategory: mem.byCategory,
    makespanUs: r.makespanUs,
    stallUs: r.stallUs,
    ioBytes,
    tokensPerSecond: count > 1 ? ((count - 1) * 1e6) / decodeSpan : 1e6 / latencies[0]!,
    tokenLatencyMsP50: quantile(latencies, 0.5) / 1000,
    tokenLatencyMsP99: quantile(latencies, 0.99) / 1000,
    firstTokenMs: genEnds[0]! / 1000,
    stallMs: r.stallUs / 1000,
    ioBytesPerToken: ioBytes / steps,
    persistentBytes: resident.total,
    peakBytes: resident.total + mem.peakTransient,
    resident,
    embCache: cache ? cache.stats(costs.embRowBytes) : undefined,
    overruns: r.overruns,
  };
}

/** A run's speed and memory figures, the keys `shardlab run --json` and the workbench's live result share. */
export function runFigures(r: EdgeRunResult) {
  const { tokensPerSecond, tokenLatencyMsP50, tokenLatencyMsP99, firstTokenMs, stallMs, ioBytesPerToken, persistentBytes, peakBytes } = r;
  return {
    tokensPerSecond,
    tokenLatencyMsP50,
    tokenLatencyMsP99,
    firstTokenMs,
    stallMs,
    makespanMs: r.makespanUs / 1000,
    ioBytesPerToken,
    persistentBytes,
    peakBytes,
  };
}

/**
 * Runs the decoder over a few MB before the clock starts, so that its first real decodes run compiled code:
 * set-up a device does not do either, kept out of the modeled time as the BERT executor's preload is.
 */
function warmDecode(): void {
  const n = 256;
  const rows = 4096;
  const out = new Float32Array(rows * n);
  for (const int8 of [false, true]) decodeVectors(Buffer.alloc(rows * vectorBytes(n, int8)), 0, rows, n, int8, out);
}

/** The q-quantile of values (nearest rank). */
export function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
