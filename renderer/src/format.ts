import { formatAccuracy } from '../../engine/eval/interval.js';
export const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2)) + ' ms';
export const fmtBytes = (b: number) =>
  b >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(2)} MB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KB` : `${b} B`;

export const fmtPct = (x: number) => `${(100 * x).toFixed(1)} %`;
/** An accuracy with its 95 % interval, "70.5 % ± 6.3" (engine/eval/interval.ts: the one definition). */
export const fmtAcc = (accuracy: number, examples: number) => formatAccuracy(accuracy, examples);
export const BIT_COLORS: Record<number, string> = {
  2: 'var(--b2)',
  3: 'var(--b3)',
  4: 'var(--b4)',
  5: 'var(--b5)',
  6: 'var(--b6)',
  32: 'var(--b32)',
};
export const bitColor = (b: number) => BIT_COLORS[b] ?? 'var(--muted)';
