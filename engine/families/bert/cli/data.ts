/** `--data FILE` for the bert commands: a user's own labelled data in place of a bundled task. */
import { UserError } from '../../../core/errors.js';
import type { Split } from '../../../eval/splits.js';
import type { ExperimentStore } from '../../../store/db.js';
import type { BertConfig } from '../config.js';
import { loadDataFile, recordDataFile, splitRows, splitSizes, type DataFile } from '../data-file.js';
import { taskOf, type TaskName } from '../datasets.js';

/**
 * The bundled task (--task, or the model's own) or the data file (--data) a command measures on. A data
 * file is checked against the model's labels and, with a database, recorded in it (hash, rows, splits).
 */
export function taskOrData(
  config: BertConfig,
  f: { task?: string; data?: string },
  dir: string,
  db?: ExperimentStore,
): TaskName | DataFile {
  if (f.data === undefined) return taskOf(config, f.task, dir);
  if (f.task !== undefined) throw new UserError('--task and --data both given: measure on one of them');
  const data = loadDataFile(f.data, config);
  if (db) recordDataFile(db, data);
  return data;
}

/** A data file's rows in a split; none is a UserError that says which splits have rows. */
export function dataSplit(data: DataFile, split: Split): DataFile['rows'] {
  const rows = splitRows(data, split);
  if (rows.length === 0) {
    const sizes = splitSizes(data);
    throw new UserError(
      `${data.file}: no ${split} rows (dev ${sizes.dev}, test ${sizes.test}, train ${sizes.train}, split by ${data.splitFrom === 'column' ? 'its split column' : 'a hash of each text'}); pass --split with a split that has rows`,
    );
  }
  return rows;
}
