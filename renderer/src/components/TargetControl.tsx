/**
 * The target-latency control: a logarithmic slider over the range that makes sense for the SoC and model
 * (from a bit below the fastest plan to above the whole model streamed layerwise, asked of the engine),
 * and a number box beside it. Arrow keys step 1 ms (0.1 ms below 10 ms); Page keys step 25 %.
 */
import { useEffect, useState } from 'react';
import type { TargetRange } from '../../../engine/workbench/api.js';
import type { Ctx } from '../context.js';

const STEPS = 1000;
/** Whole ms from 10 ms up, tenths below: what a target is rounded to. */
export const roundTarget = (t: number) => (t >= 10 ? Math.round(t) : Math.round(t * 10) / 10);
const fmt = (t: number) => String(roundTarget(t));

/** The range answers per SoC and model, kept while the workbench is open (they do not change). */
const ranges = new Map<string, Promise<TargetRange>>();

export function useTargetRange(ctx: Ctx): TargetRange | null {
  const { soc, model, bufferKb } = ctx.query;
  const key = `${soc}/${model}`;
  const [range, setRange] = useState<TargetRange | null>(null);
  useEffect(() => {
    let p = ranges.get(key);
    if (!p) {
      p = ctx.api.call('targetRange', { soc, model, bufferKb });
      ranges.set(key, p);
      p.catch(() => ranges.delete(key));
    }
    let live = true;
    p.then((r) => live && setRange(r)).catch((e: Error) => live && ctx.notify(e.message, 'error'));
    return () => {
      live = false;
    };
  }, [key]);
  return range;
}

export function TargetControl({ ctx }: { ctx: Ctx }) {
  const range = useTargetRange(ctx);
  const t = ctx.query.targetMs;
  const [text, setText] = useState(fmt(t));
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => setText(fmt(t)), [t]);
  if (!range) return <span className="muted">finding the useful target range…</span>;
  const { minMs: lo, maxMs: hi } = range;
  const toPos = (ms: number) => Math.round((STEPS * Math.log(Math.min(hi, Math.max(lo, ms)) / lo)) / Math.log(hi / lo));
  const fromPos = (v: number) => roundTarget(lo * Math.pow(hi / lo, v / STEPS));
  const set = (ms: number) => {
    setProblem(null);
    ctx.setQuery({ targetMs: Math.min(hi, Math.max(lo, roundTarget(ms))) }, performance.now());
  };
  const onKey = (e: React.KeyboardEvent) => {
    const step = (x: number) => (x < 10 ? 0.1 : 1);
    const next: Record<string, number> = {
      ArrowRight: t + step(t),
      ArrowUp: t + step(t),
      ArrowLeft: t - step(t - 1e-9),
      ArrowDown: t - step(t - 1e-9),
      PageUp: t * 1.25,
      PageDown: t / 1.25,
      Home: lo,
      End: hi,
    };
    if (!(e.key in next)) return;
    e.preventDefault();
    set(next[e.key]);
  };
  const commit = () => {
    const v = Number(text.trim());
    if (Number.isFinite(v) && roundTarget(v) === t) return setProblem(null);
    if (text.trim() === '' || !Number.isFinite(v) || v <= 0) return setProblem(`"${text}" is not a target: type a number of milliseconds`);
    if (v < lo || v > hi)
      return setProblem(
        `${v} ms is outside ${lo}–${hi} ms, the useful range on ${ctx.query.soc} (fastest plan ${range.fastestMs.toFixed(1)} ms, whole model layerwise ${range.slowestMs.toFixed(0)} ms)`,
      );
    set(v);
  };
  const outside = t < lo || t > hi;
  return (
    <>
      <div className="target-control">
        <input
          id="target"
          data-testid="target-slider"
          aria-label="Target latency (logarithmic slider)"
          type="range"
          min={0}
          max={STEPS}
          step={1}
          value={toPos(t)}
          data-min-ms={lo}
          data-max-ms={hi}
          onKeyDown={onKey}
          onInput={(e) => set(fromPos(Number((e.target as HTMLInputElement).value)))}
          onChange={() => {}}
        />
        <span className="range-ends muted">
          {lo}–{hi} ms
        </span>
        <input
          className="num"
          data-testid="target-input"
          aria-label="Target latency in ms"
          inputMode="decimal"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && commit()}
          onBlur={commit}
        />
      </div>
      <output data-testid="target-value">{t} ms</output>
      {(problem || outside) && (
        <div className="field-problem" role="alert" data-testid="target-problem">
          {problem ?? `${t} ms lies outside ${lo}–${hi} ms, the useful range on ${ctx.query.soc}`}
        </div>
      )}
    </>
  );
}
