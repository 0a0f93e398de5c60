import { availableParallelism } from 'node:os';
import { UserError } from './errors.js';

/**
 * The cores shardlab may compute on: $SHARDLAB_THREADS, else all of the host's. Set it when the machine is
 * shared (two test files at once, a training job beside a sweep), so onnxruntime's thread pools do not
 * outnumber the cores they get and spin on them.
 */
export function hostThreads(): number {
  const env = process.env.SHARDLAB_THREADS;
  if (env === undefined || env === '') return availableParallelism();
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`SHARDLAB_THREADS=${env}: give a whole number of threads, 1 or more`);
  return n;
}
