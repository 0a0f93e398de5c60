import { InvalidArgumentError } from 'commander';
import { isSplit, SPLITS, type Split } from '../eval/splits.js';

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

/** Any finite number at least zero: buffer capacities. */
export function nonNegativeNumber(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${flag} takes a number >= 0, got "${value}"`);
    return n;
  };
}

/** Comma-separated token ids (integers >= 0): 34,105,110. */
export function tokenList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length === 0 || !parts.every((s) => /^\d+$/.test(s) && Number.isSafeInteger(Number(s))))
    throw new InvalidArgumentError(`--tokens takes comma-separated token ids (integers >= 0), got "${value}"`);
  return parts.map(Number);
}
