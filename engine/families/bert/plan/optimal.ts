/**
 * The `optimal` planner: for the same submodel STI's stage 1 picks, the exact best assignment of bitwidth
 * and preload to every shard, solved as a 0/1 integer program by HiGHS (a maintained MILP solver, here
 * as WebAssembly), under exactly STI's constraints: the preload buffer's capacity and every layer's
 * accumulated IO budget (see budget() in sti.ts).
 *
 * Its objective is the stated surrogate of surrogate.ts, since the real oracle cannot be searched over 6^32
 * configurations. The sweep then scores both plans with the real oracle, which is how far STI's greedy is
 * from the best plan is measured.
 */
import highsModule, { type ModelData } from 'highs';
import { bertPlan, type Plan, type ShardPlan } from './plan.js';
import { surrogateValue, weights } from './surrogate.js';
import { budgetMs, layerTimeMs, outcome, planSti, submodelCandidates, type PlannerInput, type PlanOutcome } from './sti.js';

// highs' types describe a CommonJS default export; Node loads its ES module build, whose default is the loader.
const highsLoader = highsModule as unknown as typeof highsModule.default;
type Solver = Awaited<ReturnType<typeof highsLoader>>;
let solver: Solver | undefined;

/** Loads HiGHS (about 0.1 s); the optimal planner needs it loaded first. */
export async function loadOptimalSolver(): Promise<void> {
  solver ??= await highsLoader();
}

/** A bitwidth and preload choice of a shard, with its column's coefficients. */
interface Choice {
  bits: number;
  preload: boolean;
  value: number;
  bytes: number;
  /** Its charge against every AIB from its layer on, µs (budgetMs). */
  chargeUs: number;
}

/** A shard of the submodel and its choices: one 0/1 column each. */
interface Shard {
  layer: number;
  slice: number;
  choices: Choice[];
}

/**
 * The 0/1 program of one submodel: a column per shard, bitwidth and preload choice; a row per shard (exactly
 * one choice), the buffer's capacity, and every layer's accumulated IO budget in microseconds (what layers
 * <= k charge, budgetMs, fits before layer k must start). Undefined when a budget is negative before any
 * shard is charged. It goes to HiGHS as arrays: parsing the same model as LP text took much of a solve.
 */
function program(input: PlannerInput, n: number, m: number): { data: ModelData; shards: Shard[] } | undefined {
  const tLayer = layerTimeMs(input, m);
  const caps: number[] = [];
  for (let k = 0; k < n; k++) {
    caps.push((input.targetMs - (n - k) * tLayer) * 1000);
    if (caps[k] < 0) return undefined;
  }
  const shards = shardChoices(input, n, m);
  const columns = shards.flatMap((shard) => shard.choices.map((c) => ({ shard, c })));
  const rows = new RowBuilder();
  let j = 0;
  for (const shard of shards)
    rows.add(
      shard.choices.map(() => [j++, 1]),
      1,
      1,
    );
  if (input.bufferBytes > 0)
    rows.add(
      columns.flatMap(({ c }, col) => (c.preload ? [[col, c.bytes]] : [])),
      -Infinity,
      input.bufferBytes,
    );
  for (let k = 0; k < n; k++) {
    const charged = columns.flatMap(({ shard, c }, col) => (shard.layer <= k && c.chargeUs > 0 ? [[col, c.chargeUs]] : []));
    if (charged.length > 0) rows.add(charged, -Infinity, caps[k]);
  }
  const data: ModelData = {
    numCols: columns.length,
    numRows: rows.lower.length,
    sense: solver!.constants.objectiveSense.maximize,
    colCost: columns.map(({ c }) => c.value),
    colLower: new Float64Array(columns.length),
    colUpper: new Float64Array(columns.length).fill(1),
    rowLower: rows.lower,
    rowUpper: rows.upper,
    matrix: {
      format: 'csr',
      numRows: rows.lower.length,
      numCols: columns.length,
      starts: rows.starts,
      indices: rows.indices,
      values: rows.values,
    },
    integrality: new Int32Array(columns.length).fill(solver!.constants.variableType.integer),
  };
  return { data, shards };
}

function shardChoices(input: PlannerInput, n: number, m: number): Shard[] {
  const w = weights(input);
  const err = input.relativeError ?? (() => 0);
  const preloads = input.bufferBytes > 0 ? [false, true] : [false];
  const shards: Shard[] = [];
  for (let l = 0; l < n; l++)
    for (let s = 0; s < m; s++) {
      const choices = input.bits.flatMap((bits) =>
        preloads.map((preload) => ({
          bits,
          preload,
          value: w(l, s) * (1 - err(l, s, bits)),
          bytes: input.bytesOf(l, s, bits),
          chargeUs: budgetMs(input, { layer: l, slice: s, bits, preload }) * 1000,
        })),
      );
      shards.push({ layer: l, slice: s, choices });
    }
  return shards;
}

class RowBuilder {
  readonly lower: number[] = [];
  readonly upper: number[] = [];
  readonly starts: number[] = [0];
  readonly indices: number[] = [];
  readonly values: number[] = [];

  add(entries: number[][], lower: number, upper: number): void {
    for (const [j, v] of entries) {
      this.indices.push(j);
      this.values.push(v);
    }
    this.starts.push(this.indices.length);
    this.lower.push(lower);
    this.upper.push(upper);
  }
}

/**
 * Solves one submodel; undefined when no assignment keeps every budget. `start`, a plan of this submodel
 * that keeps every budget (STI's), seeds the search: it only prunes what cannot beat it.
 */
function solveSubmodel(input: PlannerInput, n: number, m: number, start?: Plan): Plan | undefined {
  if (!solver) throw new Error('the optimal planner needs loadOptimalSolver() first');
  const p = program(input, n, m);
  if (!p) return undefined;
  const highs = solver;
  const colValue = highs.withModel(p.data, (model) => {
    model.options.set({ mip_rel_gap: 0, time_limit: 60, output_flag: false });
    if (start) model.setSolution({ colValue: startColumns(p.shards, start) });
    const status = model.run().modelStatus;
    return status === highs.constants.modelStatus.optimal ? model.getSolution().colValue : undefined;
  });
  if (!colValue) return undefined;
  let j = 0;
  const chosen: ShardPlan[] = [];
  for (const { layer, slice, choices } of p.shards)
    for (const c of choices) if (colValue[j++] > 0.5) chosen.push({ layer, slice, bits: c.bits, preload: c.preload });
  return bertPlan('optimal', n, m, chosen);
}

/** A plan of the submodel as the program's columns. */
function startColumns(shards: Shard[], plan: Plan): number[] {
  const unit = new Map(plan.units.map((u) => [`${u.layer} ${u.slice}`, u]));
  return shards.flatMap(({ layer, slice, choices }) => {
    const u = unit.get(`${layer} ${slice}`);
    return choices.map((c) => (u?.bits === c.bits && u.preload === c.preload ? 1 : 0));
  });
}

/**
 * The submodel STI's stage 1 settles on (the first candidate, most compute first, that has a plan keeping
 * every budget), solved exactly; STI's greedy plan is kept when the solver's is not better (they can tie).
 * When nothing fits, STI's fallback.
 */
export function planOptimal(input: PlannerInput): PlanOutcome {
  const greedy = planSti(input);
  for (const c of submodelCandidates(input).filter((x) => x.fits)) {
    const sameSubmodel = greedy.overshootMs === 0 && greedy.plan.layers === c.layers && greedy.plan.slices === c.slices;
    const plan = solveSubmodel(input, c.layers, c.slices, sameSubmodel ? greedy.plan : undefined);
    if (!plan) continue;
    const best =
      greedy.overshootMs === 0 &&
      greedy.plan.layers === plan.layers &&
      greedy.plan.slices === plan.slices &&
      surrogateValue(input, greedy.plan) >= surrogateValue(input, plan)
        ? greedy.plan
        : plan;
    return outcome(input, { ...best, planner: 'optimal' });
  }
  return { ...greedy, plan: { ...greedy.plan, planner: 'optimal' } };
}
