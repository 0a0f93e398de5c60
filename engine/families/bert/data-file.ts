/**
 * A user's own labelled data (`--data FILE`): JSONL or CSV with `text` and `label` columns, or two text
 * columns for sentence pairs (text_a/text_b, sentence1/sentence2, question1/question2, as in GLUE). Rows
 * are cut into dev and test deterministically: by a `split` column when there is one, otherwise by a
 * hash of the row's text (half each). Labels are names of the model's id2label or its integer ids.
 * Answers measured on a file are stored under the task key `data:<first 16 hex of its sha256>`, so an
 * edited file never reuses an old file's accuracies.
 */
import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { shown, UserError } from '../../core/errors.js';
import type { ExperimentStore } from '../../store/db.js';
import type { DataFileCheck } from '../../eval/data-check.js';
import type { Split } from '../../eval/splits.js';
import { loadTask, splitSize, type Example, type TaskName } from './datasets.js';

/** Column pairs read as a sentence pair (first text, second text), in the order they are looked for. */
export const PAIR_COLUMNS = [
  ['text_a', 'text_b'],
  ['sentence1', 'sentence2'],
  ['question1', 'question2'],
] as const;

/** The share of rows a file without a split column gives to dev (the rest is test), by a hash of each row's text. */
export const DEV_SHARE = 0.5;

/** What a `split` column may say, and the split it means. */
const SPLIT_NAMES: Record<string, Split> = { dev: 'dev', validation: 'dev', valid: 'dev', val: 'dev', test: 'test', train: 'train' };

const FORMAT_HINT =
  'a data file is JSONL (one JSON object per line) or CSV (a header line) with text and label columns, or text_a/text_b (sentence1/sentence2, question1/question2) and label';

export interface DataRow extends Example {
  split: Split;
  /** The row's line in the file (1-based; for CSV, the line its record ends on). */
  line: number;
  /** The label as the file writes it. */
  given: string;
}

/** A data file read and checked (but not yet matched with a model's labels). */
export interface DataFile {
  file: string;
  format: 'csv' | 'jsonl';
  /** The first 16 hex digits of the file's sha256. */
  hash: string;
  /** The task key answers on this file are stored under: `data:<hash>`. */
  task: string;
  columns: string[];
  kind: 'single' | 'pair';
  /** The text column, or the pair's two. */
  textColumns: string[];
  /** Where the split came from: the file's split column, or a hash of each row's text. */
  splitFrom: 'column' | 'hash';
  /** Every row with its split, in file order; labels are -1 until matched with a model (matchLabels). */
  rows: DataRow[];
  /** The distinct labels the file writes, in order of first appearance. */
  labels: string[];
}

/** Reads and checks a data file; every problem is a UserError naming the file, the line and what to do. */
export function readDataFile(file: string): DataFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new UserError(`${file}: cannot read the data file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const digest = hash('sha256', bytes, 'hex').slice(0, 16);
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  const format =
    /^\.jsonl?$|^\.ndjson$/i.test(extname(file)) || (extname(file) === '' && text.trimStart().startsWith('{')) ? 'jsonl' : 'csv';
  const records = format === 'jsonl' ? readJsonl(file, text) : readCsv(file, text);
  if (records.length === 0) throw new UserError(`${file}: no rows; ${FORMAT_HINT}`);
  const columns = [...new Set(records.flatMap((r) => Object.keys(r.values)))];
  const pair = PAIR_COLUMNS.find(([a, b]) => columns.includes(a) && columns.includes(b));
  const textColumns: string[] = pair ? [...pair] : ['text'];
  for (const c of [...textColumns, 'label'])
    if (!columns.includes(c))
      throw new UserError(`${file}: no "${c}" column (it has ${columns.map((x) => `"${x}"`).join(', ')}); ${FORMAT_HINT}`);
  const splitFrom = columns.includes('split') ? 'column' : 'hash';
  const labels: string[] = [];
  const rows = records.map(({ line, values }): DataRow => {
    const field = (c: string): string => {
      const v = values[c];
      if (typeof v === 'string') return v;
      if (typeof v === 'number' && c === 'label') return String(v);
      throw new UserError(`${file}: line ${line}: "${c}" is ${v === undefined ? 'missing' : shown(v)}; give it as text on every row`);
    };
    const [a, b] = textColumns.map(field);
    const given = field('label').trim();
    if (given === '') throw new UserError(`${file}: line ${line}: the label is empty; give every row a label`);
    if (!labels.includes(given)) labels.push(given);
    let split: Split;
    if (splitFrom === 'column') {
      const s = SPLIT_NAMES[field('split').trim().toLowerCase()];
      if (!s)
        throw new UserError(
          `${file}: line ${line}: split ${shown(values.split)} is not dev, validation or test (or train); fix it or drop the split column`,
        );
      split = s;
    } else split = hashSplit(a, b);
    return { id: `line${line}`, text: a, ...(b !== undefined && { textB: b }), label: -1, given, split, line };
  });
  return {
    file,
    format,
    hash: digest,
    task: `data:${digest}`,
    columns,
    kind: pair ? 'pair' : 'single',
    textColumns,
    splitFrom,
    rows,
    labels,
  };
}

/** The split of a row without a split column: dev for DEV_SHARE of rows by a hash of its text (and second text), else test. */
export function hashSplit(text: string, textB?: string): Split {
  const key = textB === undefined ? text : `${text}\u0000${textB}`;
  const u = hash('sha256', `shardlab-data:${key}`, 'buffer').readUInt32BE(0) / 2 ** 32;
  return u < DEV_SHARE ? 'dev' : 'test';
}

/**
 * Sets each row's label to the model's id: a label is one of the model's label names (id2label) or an
 * integer id below their count. Any other label is a UserError naming both sets.
 */
export function matchLabels(data: DataFile, modelLabels: string[]): DataFile {
  const idOf = (given: string): number | undefined => {
    const byName = modelLabels.indexOf(given);
    if (byName >= 0) return byName;
    if (/^\d+$/.test(given) && Number(given) < modelLabels.length) return Number(given);
    return undefined;
  };
  const unknown = data.labels.filter((l) => idOf(l) === undefined);
  if (unknown.length > 0)
    throw new UserError(
      `${data.file}: its labels {${data.labels.join(', ')}} do not match the model's id2label {${modelLabels.map((l, i) => `${i}: ${l}`).join(', ')}} (${unknown.map((l) => `"${l}"`).join(', ')} not among them); write labels as the model's names or ids`,
    );
  return { ...data, rows: data.rows.map((r) => ({ ...r, label: idOf(r.given)! })) };
}

/** The rows of one split, as examples. */
export function splitRows(data: DataFile, split: Split): DataRow[] {
  return data.rows.filter((r) => r.split === split);
}

/** How many rows each split has. */
export function splitSizes(data: DataFile): Record<Split, number> {
  const sizes: Record<Split, number> = { train: 0, dev: 0, test: 0 };
  for (const r of data.rows) sizes[r.split]++;
  return sizes;
}

/** The file's split assignment as one character per row in file order (d, t, r for dev, test, train), as stored. */
export function splitAssignment(data: DataFile): string {
  return data.rows.map((r) => (r.split === 'dev' ? 'd' : r.split === 'test' ? 't' : 'r')).join('');
}

/** A data file read and matched with a model's labels (sentence pairs need a model with two token types). */
export function loadDataFile(file: string, model: { labels: string[]; typeVocab: number }): DataFile {
  const data = matchLabels(readDataFile(file), model.labels);
  if (data.kind === 'pair' && model.typeVocab < 2)
    throw new UserError(
      `${file}: holds sentence pairs (${data.textColumns.join(', ')}) but the model has type_vocab_size ${model.typeVocab}; pairs need 2 token types`,
    );
  return data;
}

interface RawRecord {
  line: number;
  values: Record<string, unknown>;
}

function readJsonl(file: string, text: string): RawRecord[] {
  const out: RawRecord[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (e) {
      throw new UserError(`${file}: line ${i + 1}: not JSON (${(e as Error).message}); ${FORMAT_HINT}`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      throw new UserError(`${file}: line ${i + 1}: not a JSON object; ${FORMAT_HINT}`);
    out.push({ line: i + 1, values: v as Record<string, unknown> });
  });
  return out;
}

function readCsv(file: string, text: string): RawRecord[] {
  try {
    const records = parse(text, { columns: true, skip_empty_lines: true, info: true, trim: false }) as {
      record: Record<string, string>;
      info: { lines: number };
    }[];
    // info.lines is the line a record ends on; a quoted field may span lines, so this names where it ends.
    return records.map(({ record, info }) => ({ line: info.lines, values: record }));
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    throw new UserError(`${file}: ${line ? `line ${line}: ` : ''}not valid CSV (${(e as Error).message}); ${FORMAT_HINT}`);
  }
}

/** Reads a data file and checks it (against a model's labels, when given) without throwing: what went wrong is in `problems`. */
export function checkDataFile(file: string, model?: { labels: string[]; typeVocab?: number }): DataFileCheck {
  const out: DataFileCheck = {
    file,
    ok: false,
    format: null,
    task: null,
    rows: 0,
    columns: [],
    kind: null,
    textColumns: [],
    labels: [],
    modelLabels: model?.labels ?? null,
    splitFrom: null,
    splits: { train: 0, dev: 0, test: 0 },
    problems: [],
  };
  let data: DataFile;
  try {
    data = readDataFile(file);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    out.problems.push(e.message);
    return out;
  }
  Object.assign(out, {
    format: data.format,
    task: data.task,
    rows: data.rows.length,
    columns: data.columns,
    kind: data.kind,
    textColumns: data.textColumns,
    labels: data.labels,
    splitFrom: data.splitFrom,
    splits: splitSizes(data),
  });
  if (model)
    try {
      loadDataFile(file, { labels: model.labels, typeVocab: model.typeVocab ?? 2 });
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      out.problems.push(e.message);
    }
  if (out.splits.dev === 0) out.problems.push(`${file}: no dev rows; accuracy is measured on dev (add a split column with dev rows)`);
  out.ok = out.problems.length === 0;
  return out;
}

/** Records a data file measured on in the experiment store: its content hash, what it held and each row's split. */
export function recordDataFile(db: ExperimentStore, data: DataFile): void {
  db.putDataFile({
    hash: data.hash,
    path: resolve(data.file),
    format: data.format,
    kind: data.kind,
    rows: data.rows.length,
    labels: data.labels,
    splitFrom: data.splitFrom,
    assignment: splitAssignment(data),
  });
}

/** What quality is measured on: a bundled task, or a data file of the user's. */
export type TaskSource = TaskName | DataFile;

/** The task key answers are stored under: the task's name, or `data:<hash>`. */
export function taskKey(t: TaskSource): string {
  return typeof t === 'string' ? t : t.task;
}

/** A split's examples. */
export function splitExamples(t: TaskSource, split: Split): Example[] {
  return typeof t === 'string' ? loadTask(t, split).examples : splitRows(t, split);
}

/** How many examples a split has (a bundled task's counted without cutting its corpus). */
export function splitCount(t: TaskSource, split: Split): number {
  return typeof t === 'string' ? splitSize(t, split) : splitRows(t, split).length;
}
