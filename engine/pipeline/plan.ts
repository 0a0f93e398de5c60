/**
 * A Plan is what every planner of every family produces and the executor runs: a list of units (the
 * family's unit of streaming and storage), each with its codec, bitwidth and whether it is resident in
 * the preload buffer before the request starts, plus the family's own configuration.
 */

/**
 * The preload buffer a request is planned with when none is given, KB: the one default the CLI (plan,
 * run --planner, sweep) and the workbench share.
 */
export const DEFAULT_BUFFER_KB = 1536;

/** How a unit is stored: the STI dictionary codec at 2–6 bits, plain floats, or int8. */
export type CodecName = 'sti-dict' | 'fp32' | 'fp16' | 'int8';

export interface PlanUnit {
  /** Layer the unit belongs to (-1 for units outside the layers: embeddings, head). */
  layer: number;
  /** Index of the unit within its layer (BERT: the slice, one head + its FFN neurons). */
  slice: number;
  codec: CodecName;
  bits: number;
  /** Resident before the request starts (the preload buffer; persistent memory). */
  preload: boolean;
}

export interface Plan {
  /** The model family (registry id) whose planner made the plan. */
  family: string;
  planner: string;
  /** Layers the request computes and units per layer (BERT: the elastic submodel). */
  layers: number;
  slices: number;
  /** Layer-major, unit order within a layer: the order the IO stage streams units that are not preloaded. */
  units: PlanUnit[];
  /** Load-then-execute: no step computes before every unit is ready. */
  loadAllFirst: boolean;
  /** Family-specific configuration (techniques, their parameters), carried to the family's executor. */
  options?: Record<string, number | string | boolean>;
}

/** The codec of a bitwidth in the STI store: 32 bits are plain fp32, 2–6 bits the dictionary codec. */
export function codecOfBits(bits: number): CodecName {
  if (bits === 32) return 'fp32';
  if (bits === 16) return 'fp16';
  return 'sti-dict';
}

/** Slack for floating-point noise when a predicted or executed makespan is compared with its target. */
const TARGET_SLACK_MS = 1e-6;

/** How far a makespan overshoots its target, ms (0 when it meets it): the one definition of "meets the target". */
export function overshootMs(makespanMs: number, targetMs: number): number {
  return makespanMs > targetMs + TARGET_SLACK_MS ? makespanMs - targetMs : 0;
}

export function meetsTarget(makespanMs: number, targetMs: number): boolean {
  return overshootMs(makespanMs, targetMs) === 0;
}
