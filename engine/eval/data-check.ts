import type { Split } from './splits.js';

/** What a data file holds, as the workbench's Setup view shows it; problems are listed rather than thrown. */
export interface DataFileCheck {
  file: string;
  /** True when the file can be measured on (with the model's labels, when a model was given). */
  ok: boolean;
  format: 'csv' | 'jsonl' | null;
  /** The task key answers on it are stored under (`data:<hash>`), when it could be read. */
  task: string | null;
  rows: number;
  columns: string[];
  kind: 'single' | 'pair' | null;
  textColumns: string[];
  /** The labels the file writes, in order of first appearance. */
  labels: string[];
  /** The model's labels the file was checked against, when a model was given. */
  modelLabels: string[] | null;
  splitFrom: 'column' | 'hash' | null;
  splits: Record<Split, number>;
  problems: string[];
}
