/**
 * Language-model quality of an RWKV model on the English corpus (corpus.ts): perplexity and next-token
 * accuracy over every token of each passage (each from the zero state, after end-of-text), and
 * LAMBADA-style last-word accuracy: a hit when greedy decoding reproduces every token of the passage's
 * last word, as lm-evaluation-harness scores lambada (context and word tokenized apart).
 */
import { stratifiedSample } from '../../eval/sample.js';
import type { Split } from '../../eval/splits.js';
import { lastWordItems, lmPassages, type Passage, type Source } from './corpus.js';
import { argmax, logSoftmaxAt } from './compare.js';
import type { RwkvTokenizer } from './tokenizer.js';

/** A model run one token at a time from its zero state. */
export interface Stepper {
  reset(): void;
  /** Feeds a token; the logits of the next one. */
  step(token: number): Promise<Float32Array>;
}

export interface LmScores {
  perplexity: number;
  nextTokenAccuracy: number;
  lastWordAccuracy: number;
  /** Tokens predicted (every token of every passage; end-of-text is given, not predicted). */
  tokens: number;
  passages: number;
  /** Passages that end in a word, the last-word items. */
  lastWordItems: number;
}

/** One passage as scored: its tokens, and its last word's tokens where it ends in one. */
export interface LmItem {
  id: string;
  source: Source;
  ids: number[];
  lastWord?: { context: number[]; word: number[] };
}

const SOURCES: Source[] = ['sotu', 'moby-dick', 'ham'];

export function lmItems(passages: readonly Passage[], tok: RwkvTokenizer): LmItem[] {
  const words = new Map(lastWordItems(passages).map((w) => [w.id, w]));
  return passages.map((p) => {
    const w = words.get(p.id);
    return {
      id: p.id,
      source: p.source,
      ids: tok.encode(p.text),
      lastWord: w && { context: tok.encode(w.context), word: tok.encode(w.word) },
    };
  });
}

/** The passages a measurement runs on: the split, or its fixed sample of `limit` stratified by source. */
export function evaluationItems(split: Split, tok: RwkvTokenizer, limit?: number): { items: LmItem[]; all: number } {
  const all = lmPassages(split);
  const labelled = all.map((p) => ({ ...p, label: SOURCES.indexOf(p.source) }));
  const chosen = limit ? stratifiedSample(labelled, limit) : labelled;
  return { items: lmItems(chosen, tok), all: all.length };
}

/** Tokens a scoring pass predicts, for progress. */
export function tokensToScore(items: readonly LmItem[]): number {
  return items.reduce((n, it) => n + it.ids.length + (it.lastWord && !wordInPassage(it) ? it.lastWord.word.length : 0), 0);
}

/** True when the passage's tokens are its context's followed by its last word's (the usual case). */
function wordInPassage(it: LmItem): boolean {
  const w = it.lastWord;
  if (!w) return false;
  const joined = [...w.context, ...w.word];
  return joined.length <= it.ids.length && joined.every((t, i) => it.ids[i] === t);
}

/** Feeds `ids` after end-of-text; calls `each(i, logits)` with the logits that predict ids[i]. */
async function walk(m: Stepper, eot: number, ids: readonly number[], each: (i: number, logits: Float32Array) => void): Promise<void> {
  m.reset();
  let logits = await m.step(eot);
  for (let i = 0; i < ids.length; i++) {
    each(i, logits);
    if (i + 1 < ids.length) logits = await m.step(ids[i]!);
  }
}

export async function scoreLm(
  m: Stepper,
  items: readonly LmItem[],
  eot: number,
  onProgress?: (done: number, total: number) => void,
): Promise<LmScores> {
  const total = tokensToScore(items);
  let nll = 0;
  let hits = 0;
  let tokens = 0;
  let wordItems = 0;
  let wordHits = 0;
  let done = 0;
  for (const it of items) {
    const inPassage = wordInPassage(it);
    const wordFrom = inPassage ? it.lastWord!.context.length : Infinity;
    let wordOk = true;
    await walk(m, eot, it.ids, (i, logits) => {
      nll -= logSoftmaxAt(logits, it.ids[i]!);
      const hit = argmax(logits) === it.ids[i];
      if (hit) hits++;
      if (i >= wordFrom && i < wordFrom + it.lastWord!.word.length && !hit) wordOk = false;
    });
    tokens += it.ids.length;
    done += it.ids.length;
    if (it.lastWord) {
      if (!inPassage) wordOk = await wordByItself(m, eot, it.lastWord);
      if (!inPassage) done += it.lastWord.word.length;
      wordItems++;
      if (wordOk) wordHits++;
    }
    onProgress?.(done, total);
  }
  return {
    perplexity: Math.exp(nll / Math.max(1, tokens)),
    nextTokenAccuracy: hits / Math.max(1, tokens),
    lastWordAccuracy: wordHits / Math.max(1, wordItems),
    tokens,
    passages: items.length,
    lastWordItems: wordItems,
  };
}

async function wordByItself(m: Stepper, eot: number, w: { context: number[]; word: number[] }): Promise<boolean> {
  const ids = [...w.context, ...w.word];
  let ok = true;
  await walk(m, eot, ids, (i, logits) => {
    if (i >= w.context.length && argmax(logits) !== ids[i]) ok = false;
  });
  return ok;
}
