/**
 * The submitting side of a distributed sweep: one BullMQ job per uncached configuration, each answer
 * written to this machine's experiment store as it is found completed. The queue is polled rather than
 * listened to, so nothing is missed while this process or Redis was away: a job Redis no longer knows
 * (it restarted without persistence) is queued again, a job finished while the submitter was stopped is
 * collected when it resumes, and the store never holds an answer twice (one row per configuration).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { UserError } from '../core/errors.js';
import type { QualityRow } from '../store/db.js';
import type { EvaluateMissing, EvaluationJob, PendingEvaluation } from './evaluation.js';
import { JOB_OPTIONS, jobIdOf, openQueue } from './queue.js';

/** Where a sweep's jobs are: the counts `shardlab sweeps` and the progress bar show. */
export interface QueueCounts {
  done: number;
  running: number;
  failed: number;
  waiting: number;
  total: number;
}

export interface QueueSubmitOptions {
  /** How often the queue is asked about the jobs still out, ms. */
  pollMs?: number;
  /** The jobs of this submission, once queued. */
  onJobs?: (ids: string[]) => void;
  onCounts?: (c: QueueCounts) => void;
  /** Redis did not answer a poll (it is retried), or answers again. */
  onOutage?: (down: boolean, why: string) => void;
  /** Appended to the message of failed jobs: how to resume. */
  resumeHint?: string;
}

/** Evaluates the pending configurations through the queue at `url`. */
export function evaluateThroughQueue(url: string, o: QueueSubmitOptions = {}): EvaluateMissing {
  return async (pending, { db, stored, signal }) => {
    const queue = openQueue(url);
    const out = new Map(pending.map((p) => [jobIdOf(p.job), p]));
    o.onJobs?.([...out.keys()]);
    const failed = new Map<string, string>();
    let done = 0;
    let down = false;
    try {
      await enqueue(queue, [...out.values()]);
      while (out.size > 0) {
        if (signal?.aborted) throw new UserError('sweep cancelled; the answers already in are stored');
        let look: Look | undefined;
        try {
          look = await poll(queue, out);
          if (down) o.onOutage?.((down = false), '');
        } catch (e) {
          if (!down) o.onOutage?.((down = true), (e as Error).message);
        }
        for (const [p, row] of look?.completed ?? []) {
          out.delete(jobIdOf(p.job));
          const bad = answerProblem(row, p.job);
          if (bad) failed.set(jobIdOf(p.job), bad);
          else {
            db.putQuality(row);
            done++;
            stored(p.key);
          }
        }
        for (const [id, why] of look?.failed ?? []) {
          out.delete(id);
          failed.set(id, why);
        }
        if (look) o.onCounts?.({ running: look.running, waiting: look.waiting, done, failed: failed.size, total: pending.length });
        if (out.size > 0) await sleep(o.pollMs ?? 500);
      }
    } finally {
      await queue.close().catch(() => {});
    }
    if (failed.size > 0) {
      const [id, why] = [...failed][0];
      throw new UserError(
        `${failed.size} of ${pending.length} configurations failed in the queue (job ${id}: ${why}); the other answers are stored${o.resumeHint ? `; ${o.resumeHint}` : ''}`,
      );
    }
  };
}

/** Queues the jobs; a job of the same id that failed before is removed first, so a resubmission tries it again. */
async function enqueue(queue: Queue<EvaluationJob, QualityRow>, pending: PendingEvaluation[]): Promise<void> {
  for (const p of pending) {
    const id = jobIdOf(p.job);
    if ((await queue.getJobState(id)) === 'failed') await queue.remove(id);
  }
  await queue.addBulk(pending.map((p) => ({ name: 'quality', data: p.job, opts: { ...JOB_OPTIONS, jobId: jobIdOf(p.job) } })));
}

/** What one look at the queue found. */
interface Look {
  completed: [PendingEvaluation, QualityRow][];
  failed: [string, string][];
  running: number;
  waiting: number;
}

/** One look at every job still out (the caller takes the finished ones out); queues the lost ones again. */
async function poll(queue: Queue<EvaluationJob, QualityRow>, out: Map<string, PendingEvaluation>): Promise<Look> {
  const look: Look = { completed: [], failed: [], running: 0, waiting: 0 };
  const lost: PendingEvaluation[] = [];
  const states = await Promise.all([...out.keys()].map(async (id) => [id, await queue.getJobState(id)] as const));
  for (const [id, state] of states) {
    const p = out.get(id)!;
    if (state === 'completed' || state === 'failed') {
      const job = await queue.getJob(id);
      if (!job) continue; // removed between the two looks: the next look queues it again
      if (state === 'completed') look.completed.push([p, job.returnvalue]);
      else look.failed.push([id, job.failedReason]);
    } else if (state === 'unknown') {
      lost.push(p);
      look.waiting++;
    } else if (state === 'active') look.running++;
    else look.waiting++;
  }
  if (lost.length > 0) await enqueue(queue, lost);
  return look;
}

/** Why a worker's answer does not answer its job, if it does not. */
function answerProblem(row: QualityRow, job: EvaluationJob): string | undefined {
  if (!row || row.configHash !== job.configHash || row.model !== job.checksum || typeof row.value !== 'number')
    return `the worker's answer is not about configuration ${job.configHash} of model ${job.checksum}`;
  return undefined;
}

/** Where the given jobs are now (a job Redis no longer knows counts as waiting: its submitter queues it again). */
export async function jobCounts(url: string, ids: string[]): Promise<QueueCounts> {
  const queue = openQueue(url);
  try {
    const c: QueueCounts = { done: 0, running: 0, failed: 0, waiting: 0, total: ids.length };
    for (const state of await Promise.all(ids.map((id) => queue.getJobState(id)))) {
      if (state === 'completed') c.done++;
      else if (state === 'failed') c.failed++;
      else if (state === 'active') c.running++;
      else c.waiting++;
    }
    return c;
  } finally {
    await queue.close().catch(() => {});
  }
}
