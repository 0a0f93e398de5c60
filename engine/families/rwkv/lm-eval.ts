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

export interface LmScores {
  perplexity: number;
  nextTokenAccuracy: number;
  lastWordAccuracy: number;
  /** Tokens predicted (every token of every passage; end-of-text is given, not predicted). */
  tokens: number;
  passages: number;
  /** Passages that end in a word, the last-word items. */
  lastWordItems: number;
  /** Per layer, when the model runs an FFN predictor. */
  ffn?: FfnLayerStats[];
  /** When the model runs a hierarchical head. */
  head?: HeadStats;
}

/** What the hierarchical head computed per scored token, on average. */
export interface HeadStats {
  clustersPerToken: number;
  /** Share of the head's rows read per token. */
  rowsTouched: number;
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

const samples = new Map<string, readonly Passage[]>();

/** The passages of the split a measurement runs on, or its fixed sample of `limit` stratified by source (drawn once per process). */
function chosenPassages(split: Split, limit?: number): readonly Passage[] {
  const key = `${split}\0${limit ?? 0}`;
  let chosen = samples.get(key);
  if (!chosen) {
    const labelled = lmPassages(split).map((p) => ({ ...p, label: SOURCES.indexOf(p.source) }));
    samples.set(key, (chosen = limit ? stratifiedSample(labelled, limit) : labelled));
  }
  return chosen;
}

/** The passages a measurement runs on: the split, or its fixed sample of `limit` stratified by source. */
export function evaluationItems(split: Split, tok: RwkvTokenizer, limit?: number): { items: LmItem[]; all: number } {
  return { items: lmItems(chosenPassages(split, limit), tok), all: lmPassages(split).length };
}

/** How many passages evaluationItems gives, and of how many, without tokenizing them (what a cached quality is keyed by). */
export function evaluationSize(split: Split, limit?: number): { passages: number; all: number } {
  return { passages: chosenPassages(split, limit).length, all: lmPassages(split).length };
}

/** Sequences scored side by side (lanes of one batched step); 32 keeps a 2-core machine's matrix units busy. */
export const LANES = 32;

/** Independent sequences stepped side by side (RwkvRunner.stepLanes). */
export interface LaneStepper {
  /** Feeds tokens[i] to lane i (from the zero state where fresh[i]); the logits of each lane's next token. */
  stepLanes(tokens: readonly number[], fresh: readonly boolean[]): Promise<Float32Array[]>;
  /** With an FFN predictor: per lane, per layer, [truly active, predicted, both] of the last step. */
  readonly lastFfnStats?: Float32Array;
  /** With a hierarchical head: per lane, [clusters computed, head rows read] of the last step. */
  readonly lastHeadStats?: Float32Array;
  readonly model?: { ffn: number; layers: number; vocab: number };
}

/** What the FFN predictor did in one layer, over every scored token. */
export interface FfnLayerStats {
  /** Share of neurons with relu(Wk·xk) = 0. */
  trueSparsity: number;
  /** Share of neurons the predictor left out (what is not loaded). */
  predictedSparsity: number;
  /** Share of truly active neurons the predictor kept. */
  recall: number;
}

/** A sequence to feed from the zero state, and what to do with the logits after each of its tokens. */
interface Job {
  feed: number[];
  each: (i: number, logits: Float32Array) => void;
  /** Called once the sequence is done. */
  done?: () => void;
}

/** True when the passage's tokens are its context's followed by its last word's (the usual case). */
function wordInPassage(it: LmItem): boolean {
  const w = it.lastWord;
  if (!w) return false;
  const joined = [...w.context, ...w.word];
  return joined.length <= it.ids.length && joined.every((t, i) => it.ids[i] === t);
}

/** Runs the jobs through `lanes` lanes, refilling a lane as soon as its sequence ends. */
async function runJobs(m: LaneStepper, jobs: Job[], lanes: number, onStep: (busy: number[]) => void): Promise<void> {
  let next = 0;
  const take = () => (next < jobs.length ? { job: jobs[next++]!, pos: 0 } : undefined);
  const slots = Array.from({ length: Math.min(lanes, jobs.length) }, take);
  while (slots.some((x) => x)) {
    // An idle lane (no job left) is fed end-of-text from a fresh state; its logits are ignored.
    const tokens = slots.map((x) => (x ? x.job.feed[x.pos]! : 0));
    const logits = await m.stepLanes(
      tokens,
      slots.map((x) => !x || x.pos === 0),
    );
    const busy: number[] = [];
    slots.forEach((x, k) => {
      if (!x) return;
      x.job.each(x.pos, logits[k]!);
      busy.push(k);
      if (++x.pos === x.job.feed.length) {
        x.job.done?.();
        slots[k] = take();
      }
    });
    onStep(busy);
  }
}

/** Scores every token of each passage and its last word; `eot` starts each sequence and is not scored. */
export async function scoreLm(
  m: LaneStepper,
  items: readonly LmItem[],
  eot: number,
  onProgress?: (done: number, total: number) => void,
  lanes = LANES,
): Promise<LmScores> {
  let nll = 0;
  let hits = 0;
  let tokens = 0;
  let wordHits = 0;
  const jobs: Job[] = [];
  for (const it of items) {
    const target = it.ids;
    const w = it.lastWord;
    const inPassage = wordInPassage(it);
    let wordOk = true;
    // The word's tokens, where the passage holds it, are judged in the passage's own pass.
    const wordAt = (i: number) => inPassage && i >= w!.context.length && i < w!.context.length + w!.word.length;
    jobs.push({
      feed: [eot, ...target.slice(0, -1)],
      each: (i, logits) => {
        nll -= logSoftmaxAt(logits, target[i]!);
        const hit = argmax(logits) === target[i];
        if (hit) hits++;
        if (wordAt(i) && !hit) wordOk = false;
      },
      done: () => {
        tokens += target.length;
        if (inPassage && wordOk) wordHits++;
      },
    });
    if (w && !inPassage) {
      const ids = [...w.context, ...w.word];
      let ok = true;
      jobs.push({
        feed: [eot, ...ids.slice(0, -1)],
        each: (i, logits) => {
          if (i >= w.context.length && argmax(logits) !== ids[i]) ok = false;
        },
        done: () => {
          if (ok) wordHits++;
        },
      });
    }
  }
  const total = jobs.reduce((n, j) => n + j.feed.length, 0);
  let done = 0;
  const ffn = ffnCounter(m);
  const head = headCounter(m);
  await runJobs(m, jobs, lanes, (busy) => {
    ffn?.add(busy);
    head.add(busy);
    onProgress?.((done += busy.length), total);
  });
  const wordItems = items.filter((it) => it.lastWord).length;
  return {
    ...(ffn && { ffn: ffn.layers() }),
    ...(head.stats() && { head: head.stats() }),
    perplexity: Math.exp(nll / Math.max(1, tokens)),
    nextTokenAccuracy: hits / Math.max(1, tokens),
    lastWordAccuracy: wordHits / Math.max(1, wordItems),
    tokens,
    passages: items.length,
    lastWordItems: wordItems,
  };
}

/** Sums a predictor's per-lane counts over the steps of the lanes that held a job. */
function ffnCounter(m: LaneStepper) {
  if (!m.model) return undefined;
  const { ffn: F, layers: L } = m.model;
  const sums = new Float64Array(3 * L);
  let steps = 0;
  return {
    add(busy: number[]) {
      const stats = m.lastFfnStats;
      if (!stats) return;
      for (const k of busy) for (let i = 0; i < 3 * L; i++) sums[i] += stats[k * 3 * L + i]!;
      steps += busy.length;
    },
    layers(): FfnLayerStats[] | undefined {
      if (steps === 0) return undefined;
      return Array.from({ length: L }, (_, l) => ({
        trueSparsity: 1 - sums[3 * l]! / (F * steps),
        predictedSparsity: 1 - sums[3 * l + 1]! / (F * steps),
        recall: sums[3 * l + 2]! / Math.max(1, sums[3 * l]!),
      }));
    },
  };
}

/** Sums a hierarchical head's per-lane counts over the steps of the lanes that held a job. */
function headCounter(m: LaneStepper) {
  let clusters = 0;
  let rows = 0;
  let steps = 0;
  return {
    add(busy: number[]) {
      const s = m.lastHeadStats;
      if (!s) return;
      for (const k of busy) [clusters, rows] = [clusters + s[2 * k]!, rows + s[2 * k + 1]!];
      steps += busy.length;
    },
    stats(): HeadStats | undefined {
      const vocab = m.model?.vocab;
      return steps && vocab ? { clustersPerToken: clusters / steps, rowsTouched: rows / steps / vocab } : undefined;
    },
  };
}
