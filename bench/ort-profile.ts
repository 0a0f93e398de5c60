/**
 * onnxruntime's own profiler, for the benches: the session options that turn it on, and a reader that
 * sums a session's trace (a JSON array of Chrome trace events, written by endProfiling) per operator type.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type ort from 'onnxruntime-node';

interface TraceEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

/** Times from one session's trace, in microseconds, over the runs after the skipped ones. */
export interface KernelTimes {
  /** Kernel time per operator type (Gemm, MatMul, ...). */
  byOp: Map<string, number>;
  /** All kernels together. */
  kernels: number;
  /** onnxruntime's Run calls: the kernels plus the executor's own work between them. */
  run: number;
  runs: number;
}

/** Options that make a session record a trace in `dir`, named after `name`. */
export function profilingOptions(dir: string, name: string): ort.InferenceSession.SessionOptions {
  return { enableProfiling: true, profileFilePrefix: join(dir, name) };
}

/** The trace a session made with profilingOptions(dir, name) wrote on endProfiling. */
export function traceFile(dir: string, name: string): string {
  const files = readdirSync(dir).filter((f) => f.startsWith(`${name}_`) && f.endsWith('.json'));
  if (files.length !== 1) throw new Error(`expected one trace for ${name} in ${dir}, found ${files.length}`);
  return join(dir, files[0]);
}

/** Sums a trace per operator type, leaving out the first `skipRuns` runs (the warm-up). */
export function readKernelTimes(file: string, skipRuns = 0): KernelTimes {
  const events = JSON.parse(readFileSync(file, 'utf8')) as TraceEvent[];
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const from = runs[skipRuns]?.ts ?? Infinity;
  const byOp = new Map<string, number>();
  let kernels = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < from) continue;
    const op = e.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    kernels += e.dur;
  }
  const measured = runs.slice(skipRuns);
  return { byOp, kernels, run: measured.reduce((s, e) => s + e.dur, 0), runs: measured.length };
}
