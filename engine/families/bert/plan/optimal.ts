/**
 * The `optimal` planner: for the same submodel STI's stage 1 picks, the exact best assignment of bitwidth
 * and preload to every shard, solved as a 0/1 integer program by HiGHS (a maintained MILP solver, here
 * as WebAssembly), under exactly STI's constraints: the preload buffer's capacity and every layer's
 * accumulated IO budget (see budgetMs in sti.ts).
 *
 * Its objective is the stated surrogate of surrogate.ts, since the real oracle cannot be searched over 6^32
 * configurations. The sweep then scores both plans with the real oracle, which is how far STI's greedy is
 * from the best plan is measured.
 */
import highsModule from 'highs';
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

interface Choice {
  name: string;
  layer: number;
  slice: number;
  bits: number;
  preload: boolean;
}

/** Solves one submodel; undefined when no assignment keeps every budget. */
function solveSubmodel(input: PlannerInput, n: number, m: number): Plan | undefined {
  if (!solver) throw new Error('the optimal planner needs loadOptimalSolver() first');
  const w = weights(input);
  const err = input.relativeError ?? (() => 0);
  const tLayer = layerTimeMs(input, m);
  const preloadable = input.bufferBytes > 0;
  const choices: Choice[] = [];
  for (let l = 0; l < n; l++)
    for (let s = 0; s < m; s++)
      for (const b of input.bits)
        for (const preload of preloadable ? [false, true] : [false])
          choices.push({ name: `x_${l}_${s}_${b}_${preload ? 'p' : 's'}`, layer: l, slice: s, bits: b, preload });
  const term = (coef: number, c: Choice) => `${coef >= 0 ? '+' : '-'} ${Math.abs(coef).toPrecision(12)} ${c.name}`;
  const lines = [
    'Maximize',
    ' obj: ' + choices.map((c) => term(w(c.layer, c.slice) * (1 - err(c.layer, c.slice, c.bits)), c)).join(' '),
    'Subject To',
  ];
  for (let l = 0; l < n; l++)
    for (let s = 0; s < m; s++)
      lines.push(
        ` one_${l}_${s}: ` +
          choices
            .filter((c) => c.layer === l && c.slice === s)
            .map((c) => `+ ${c.name}`)
            .join(' ') +
          ' = 1',
      );
  if (preloadable)
    lines.push(
      ' buffer: ' +
        choices
          .filter((c) => c.preload)
          .map((c) => term(input.bytesOf(c.layer, c.slice, c.bits), c))
          .join(' ') +
        ` <= ${input.bufferBytes}`,
    );
  // AIB, in microseconds: what layers <= k charge (budgetMs) fits before layer k must start.
  for (let k = 0; k < n; k++) {
    const cap = (input.targetMs - (n - k) * tLayer) * 1000;
    if (cap < 0) return undefined;
    const charged = choices.filter((c) => c.layer <= k && budgetMs(input, c) > 0);
    if (charged.length > 0)
      lines.push(` aib_${k}: ` + charged.map((c) => term(budgetMs(input, c) * 1000, c)).join(' ') + ` <= ${cap.toPrecision(12)}`);
  }
  lines.push('Binary', ...choices.map((c) => ` ${c.name}`), 'End');
  const r = solver.solve(lines.join('\n'), { mip_rel_gap: 0, time_limit: 60, output_flag: false });
  if (r.Status !== 'Optimal') return undefined;
  const shards: ShardPlan[] = choices
    .filter((c) => (r.Columns[c.name] as { Primal: number }).Primal > 0.5)
    .map((c) => ({ layer: c.layer, slice: c.slice, bits: c.bits, preload: c.preload }))
    .sort((a, b) => a.layer - b.layer || a.slice - b.slice);
  return bertPlan('optimal', n, m, shards);
}

/**
 * The submodel STI's stage 1 settles on (the first candidate, most compute first, that has a plan keeping
 * every budget), solved exactly; STI's greedy plan is kept when the solver's is not better (they can tie).
 * When nothing fits, STI's fallback.
 */
export function planOptimal(input: PlannerInput): PlanOutcome {
  const greedy = planSti(input);
  for (const c of submodelCandidates(input).filter((x) => x.fits)) {
    const plan = solveSubmodel(input, c.layers, c.slices);
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
