/** The engine's logits against the PyTorch reference logits stored with an RWKV model directory. */
import { compareLogits, type LogitsDiff } from './compare.js';
import { readReferenceLogits } from './model-dir.js';
import type { RwkvRunner } from './runner.js';

/** Largest |difference| from reference-logits.json that passes (the BERT family's gate too). */
export const REFERENCE_TOLERANCE = 1e-4;

export interface ReferenceCheck {
  prompts: (LogitsDiff & { text: string; tokens: number })[];
  /** The largest over every prompt (NaN when any logit is NaN). */
  maxAbsDiff: number;
  pass: boolean;
}

export async function compareWithReference(runner: RwkvRunner, dir: string): Promise<ReferenceCheck> {
  const prompts = [];
  for (const p of readReferenceLogits(dir, runner.model.vocab))
    prompts.push({ text: p.text, tokens: p.tokens.length, ...compareLogits(await runner.logitsAfter(p.tokens), p.logits) });
  const maxAbsDiff = prompts.some((r) => Number.isNaN(r.maxAbsDiff)) ? NaN : Math.max(...prompts.map((r) => r.maxAbsDiff));
  return { prompts, maxAbsDiff, pass: maxAbsDiff <= REFERENCE_TOLERANCE };
}
