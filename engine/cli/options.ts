import { InvalidArgumentError } from 'commander';
import { isSplit, requireTask, SPLITS, type Split, type TaskName } from '../families/bert/datasets.js';
import { UserError } from '../core/errors.js';
import type { BertConfig } from '../families/bert/config.js';

export function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError(`${flag} takes a positive integer, got "${value}"`);
    return n;
  };
}

/** Any finite number above zero (decimals welcome): latencies, clocks, bandwidths. */
export function positiveNumber(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} takes a positive number, got "${value}"`);
    return n;
  };
}

export function parseSplit(value: string): Split {
  if (!isSplit(value)) throw new InvalidArgumentError(`unknown split "${value}": use one of ${SPLITS.join(', ')}`);
  return value;
}

/** The task a model was trained on: --task, or the one recorded in its config.json. */
export function taskOf(config: BertConfig, flag: string | undefined, dir: string): TaskName {
  const name = flag ?? config.task;
  if (!name) throw new UserError(`${dir}/config.json names no task; pass --task spam|sotu-era`);
  return requireTask(name);
}
