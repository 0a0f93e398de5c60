/**
 * Every planner behind one name, each producing a Plan for the same executor: STI and its ablations,
 * and the baselines of STI §9 (load-then-execute, standard layerwise pipelining, hold in memory, and the
 * elastic submodel alone).
 */
import { UserError } from '../../../core/errors.js';
import { expandPlanners } from '../../family.js';
import { PLANNERS } from '../defaults.js';
import { uniformConfiguration } from '../configuration.js';
import { paradigmPlan, type Plan } from './plan.js';
import { planOptimal } from './optimal.js';
import { surrogateValue } from './surrogate.js';
import { outcome, planSti, submodelCandidates, type PlannerInput, type PlanOutcome } from './sti.js';

const UNIFORM = /^(load-exec|stdpl|hold)-(\d+)$/;

export function plannerNames(bits: readonly number[]): string[] {
  return expandPlanners(PLANNERS, bits);
}

export function runPlanner(name: string, input: PlannerInput): PlanOutcome {
  const named = (p: Plan): Plan => ({ ...p, planner: name });
  if (name === 'sti') return withName(planSti(input), name);
  if (name === 'optimal') return planOptimal(input);
  if (name === 'sti-plus') return withName(planStiPlus(input), name);
  if (name === 'sti-nobuffer') return withName(planSti({ ...input, bufferBytes: 0 }), name);
  if (name === 'sti-uniform') return withName(planSti(input, { upgrade: false }), name);
  if (name === 'submodel') {
    const fp32 = { ...input, bits: [32] };
    const c = submodelCandidates(fp32)[0];
    return outcome(input, named(paradigmPlan('layerwise', uniformConfiguration(c.layers, c.slices, 32))));
  }
  const m = UNIFORM.exec(name);
  if (m && input.bits.includes(Number(m[2]))) {
    const paradigm = m[1] === 'stdpl' ? 'layerwise' : (m[1] as 'load-exec' | 'hold');
    return outcome(input, named(paradigmPlan(paradigm, uniformConfiguration(input.layers, input.slices, Number(m[2])))));
  }
  throw new UserError(`unknown planner "${name}": use one of ${plannerNames(input.bits).join(', ')}`);
}

/**
 * sti-plus: STI's greedy with preloaded shards revisited (StiOptions.revisitPreload), planned for STI's
 * submodel under two preload policies (layer 0 first, as STI; or layer 0 like any other layer, which wins
 * when the target has slack to stream it at a higher bitwidth than the buffer holds); the plan that meets
 * the target with the higher surrogate (surrogate.ts, comparable only over the same shards) is kept.
 */
function planStiPlus(input: PlannerInput): PlanOutcome {
  const options = { upgrade: true, revisitPreload: true };
  const a = planSti(input, { ...options, layer0First: true });
  const { layers, slices } = a.plan;
  const b = planSti({ ...input, layers, slices, minLayers: layers, minSlices: slices }, { ...options, layer0First: false });
  if (a.overshootMs !== b.overshootMs) return a.overshootMs < b.overshootMs ? a : b;
  return surrogateValue(input, b.plan) > surrogateValue(input, a.plan) ? b : a;
}

function withName(o: PlanOutcome, name: string): PlanOutcome {
  return { ...o, plan: { ...o.plan, planner: name } };
}
