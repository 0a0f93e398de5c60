/**
 * Where a sweep's time goes, accumulated per phase in milliseconds (bench/sweep-scale.ts prints it).
 * A sweep that is given no Phases times nothing.
 */
import { performance } from 'node:perf_hooks';

export const PHASES = ['open', 'importance', 'plan', 'execute', 'quality', 'store'] as const;
export type Phase = (typeof PHASES)[number];
export type Phases = Record<Phase, number>;

export function newPhases(): Phases {
  return { open: 0, importance: 0, plan: 0, execute: 0, quality: 0, store: 0 };
}

/** Runs f, adding its time (to settling, when it returns a promise) to `phase` of `into`. */
export function timed<T>(into: Phases | undefined, phase: Phase, f: () => T): T {
  if (!into) return f();
  const start = performance.now();
  const out = f();
  const add = () => void (into[phase] += performance.now() - start);
  if (out instanceof Promise) return out.finally(add) as T;
  add();
  return out;
}
