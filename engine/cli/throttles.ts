import { InvalidArgumentError, type Command } from 'commander';
import { positiveNumber } from './options.js';

/** The per-run throttles every timing command accepts (the SoC profile supplies the defaults). */
export function throttleOptions(cmd: Command): Command {
  return cmd
    .option('--unit <cpu|gpu>', 'compute unit (default: the profile’s)', (v: string) => {
      if (v !== 'cpu' && v !== 'gpu') throw new InvalidArgumentError(`--unit must be cpu or gpu, got "${v}"`);
      return v;
    })
    .option('--cluster <id>', 'CPU cluster for compute and dequantization (e.g. big, little)')
    .option('--cores <n>', 'cores of that cluster to use', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--cores takes a positive integer, got "${v}"`);
      return n;
    })
    .option('--clock-ghz <ghz>', 'cap the cluster clock', positiveNumber('--clock-ghz'))
    .option('--io-mbps <mbps>', 'override the storage read bandwidth', positiveNumber('--io-mbps'));
}
