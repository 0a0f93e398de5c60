/**
 * The working side of a distributed sweep: a BullMQ worker that evaluates configurations on a pool of
 * threads (one per unit of concurrency), so its own event loop stays free to renew job locks. Bad input
 * (a model that is not here, a checksum that differs) fails the job once with its message
 * (UnrecoverableError); a crash is retried (JOB_OPTIONS.attempts); a worker killed mid-job stops renewing
 * its lock, and the other workers' stalled-job check puts the job back in the queue.
 */
import { UnrecoverableError, Worker } from 'bullmq';
import { UserError } from '../core/errors.js';
import type { QualityRow } from '../store/db.js';
import type { EvaluationJob } from './evaluation.js';
import { EvaluationPool } from './pool.js';
import { connection, QUEUE_NAME } from './queue.js';

export interface QueueWorkerOptions {
  url: string;
  /** Jobs evaluated at once, each on its own thread. */
  concurrency: number;
  /** Where this machine keeps the models, when not at the submitter's paths. */
  modelsRoot?: string;
  /**
   * How long a job's lock lasts unless renewed, ms; a job whose worker died is taken over after about
   * this long (it is also how often this worker checks for such jobs).
   */
  lockMs: number;
  onEvent?: (e: WorkerEvent) => void;
}

export type WorkerEvent =
  | { type: 'started'; id: string; configHash: string }
  | { type: 'completed'; id: string; configHash: string; value: number; seconds: number }
  | { type: 'failed'; id: string; configHash: string; reason: string; final: boolean }
  | { type: 'error'; message: string };

export interface RunningWorker {
  /** Finishes the jobs in hand, then stops. */
  close(): Promise<void>;
}

export async function startQueueWorker(o: QueueWorkerOptions): Promise<RunningWorker> {
  const pool = new EvaluationPool(o.concurrency, { modelsRoot: o.modelsRoot });
  const worker = new Worker<EvaluationJob, QualityRow>(
    QUEUE_NAME,
    async (job) => {
      o.onEvent?.({ type: 'started', id: job.id!, configHash: job.data.configHash });
      try {
        return await pool.evaluate(job.data);
      } catch (e) {
        throw e instanceof UserError ? new UnrecoverableError(e.message) : e;
      }
    },
    {
      connection: connection(o.url, true),
      concurrency: o.concurrency,
      lockDuration: o.lockMs,
      stalledInterval: o.lockMs,
      // A job whose worker was killed is taken over; one that kills every worker it meets fails.
      maxStalledCount: 2,
    },
  );
  worker.on('completed', (job, row) =>
    o.onEvent?.({ type: 'completed', id: job.id!, configHash: job.data.configHash, value: row.value, seconds: row.seconds }),
  );
  worker.on('failed', (job, e) => {
    if (!job) return;
    const final = e instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    o.onEvent?.({ type: 'failed', id: job.id!, configHash: job.data.configHash, reason: e.message, final });
  });
  worker.on('error', (e) => o.onEvent?.({ type: 'error', message: e.message }));
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      await pool.close();
    },
  };
}
