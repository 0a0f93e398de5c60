/**
 * A thread of the evaluation pool (pool.ts): evaluates the jobs its parent posts, one at a time, with
 * one onnxruntime thread, and posts each answer or error back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../core/errors.js';
import { Evaluator, type EvaluationJob, type EvaluatorOptions } from './evaluation.js';
import type { PoolReply } from './pool.js';

const evaluator = new Evaluator(workerData as EvaluatorOptions);

// The pool ends its threads by terminating them: the process's models and in-memory store go with them.
parentPort!.on('message', async (m: { id: number; job: EvaluationJob }) => {
  let reply: PoolReply;
  try {
    reply = { id: m.id, row: await evaluator.evaluate(m.job) };
  } catch (e) {
    reply = { id: m.id, error: (e as Error).message ?? String(e), userError: e instanceof UserError };
  }
  parentPort!.postMessage(reply);
});
