/** What the RWKV views share: the technique toggles, number formats, the quality line and the quality job. */
import type { RwkvQuality, RwkvTechniques } from '../../../../engine/workbench/api.js';
import { Progress } from '../../components/feedback.js';
import type { Ctx } from '../../context.js';

/** Setup's quick choice of test passages for RWKV quality (a fixed stratified sample: seconds per setting). */
export const RWKV_QUICK_LIMIT = 8;

export const TECHNIQUES: { key: keyof RwkvTechniques; label: string; title: string }[] = [
  { key: 'lowrank', label: 'low-rank', title: 'Low-rank time-mix projections (f = 8, the trained relu2 sibling)' },
  { key: 'sparseFfn', label: 'sparse FFN', title: 'FFN sparsity predictors: only the neurons they pick are read and computed' },
  { key: 'embCache', label: 'embedding cache', title: 'Embedding rows cached in memory (1000 rows, FIFO); misses are read from storage' },
  { key: 'clusterHead', label: 'hierarchical head', title: 'Clustered head: the first level picks clusters, only their rows are read' },
  { key: 'int8', label: 'INT8', title: 'Weights stored and held in INT8 (dequantized when used)' },
  {
    key: 'stream',
    label: 'stream dense',
    title: 'The dense model read layer by layer every token instead of held (combines with INT8 only)',
  },
];

export const fmtMiB = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
export const fmtRate = (x: number) => `${x >= 100 ? x.toFixed(0) : x.toFixed(1)} tokens/s`;

export function qualityText(q: RwkvQuality | null): string {
  if (!q) return '—';
  return `perplexity ${q.perplexity.toFixed(2)}`;
}

export function qualityNote(q: RwkvQuality | null): string {
  if (!q) return 'not measured yet';
  const word = Number.isFinite(q.lastWordAccuracy) ? `last word ${(100 * q.lastWordAccuracy).toFixed(1)} %; ` : '';
  return `${word}${q.split}, ${q.tokens} tokens (stored)`;
}

export function Toggles({ ctx }: { ctx: Ctx }) {
  const t = ctx.query.rwkvTechniques;
  const set = (key: keyof RwkvTechniques, on: boolean) => {
    const next = { ...t, [key]: on };
    // Streaming is of the dense model: turning it on turns the other techniques off (INT8 stays); turning one on stops streaming.
    if (key === 'stream' && on) Object.assign(next, { lowrank: false, sparseFfn: false, embCache: false, clusterHead: false });
    else if (on && key !== 'int8') next.stream = false;
    ctx.setQuery({ rwkvTechniques: next }, performance.now());
  };
  return (
    <div className="checks" role="group" aria-label="techniques" data-testid="rwkv-toggles">
      {TECHNIQUES.map((x) => (
        <label key={x.key} className="check" title={x.title}>
          <input type="checkbox" data-technique={x.key} checked={t[x.key]} onChange={(e) => set(x.key, e.target.checked)} /> {x.label}
        </label>
      ))}
    </div>
  );
}

/** A quality job's progress for the model, if one runs. */
export function qualityJob(ctx: Ctx) {
  return Object.values(ctx.jobs)
    .filter((j) => j.kind === 'rwkv-quality' && j.status === 'running')
    .at(-1);
}

export function QualityProgress({ ctx }: { ctx: Ctx }) {
  const job = qualityJob(ctx);
  return job ? <Progress job={job} onCancel={() => ctx.cancelJob(job.jobId)} /> : null;
}
