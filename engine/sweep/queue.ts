/**
 * What the submitter and the workers of a distributed sweep agree on: the BullMQ queue on Redis, the job
 * id of a configuration's evaluation, and the jobs' retry settings. Redis holds only the queue; every
 * answer lands in the submitting machine's experiment store.
 */
import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { UserError } from '../core/errors.js';
import type { EvaluationJob } from './evaluation.js';
import type { QualityRow } from '../store/db.js';

export const QUEUE_NAME = 'shardlab-quality';

/** How a job is tried: again after a crash (a worker's error), never again after bad input (UnrecoverableError). */
export const JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  // Finished answers stay a day, so a stopped submitter finds them when it resumes.
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: 24 * 3600 },
};

/**
 * The job id of a configuration's evaluation: the same model (checksum), task, split and sample, and
 * configuration hash give the same id, so BullMQ queues it once however many sweeps ask for it.
 */
export function jobIdOf(job: EvaluationJob): string {
  // BullMQ refuses custom ids with ':' in them.
  const where = `${job.where.split}~${job.where.limit ?? 'all'}`;
  return [job.checksum, job.task, where, job.configHash].join('-').replaceAll(':', '_');
}

/** A queue URL as the user gave it, checked: redis://HOST:PORT[/DB] (rediss:// for TLS). */
export function parseQueueUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(`--queue ${url}: not a URL; give redis://HOST:PORT[/DB], e.g. redis://127.0.0.1:6379`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new UserError(`--queue ${url}: a queue is a Redis server; give redis://HOST:PORT[/DB]`);
  if (!u.hostname) throw new UserError(`--queue ${url}: no host; give redis://HOST:PORT[/DB]`);
  if (u.pathname !== '' && u.pathname !== '/' && !/^\/\d+$/.test(u.pathname))
    throw new UserError(`--queue ${url}: the path is a Redis database number (/0 … /15), not "${u.pathname}"`);
  return url;
}

/** Checks that the queue's Redis answers, within a few seconds; a UserError saying so if it does not. */
export async function checkReachable(url: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    throw new UserError(`--queue ${url}: cannot reach Redis (${(e as Error).message}); start redis-server there or fix the URL`);
  } finally {
    r.disconnect();
  }
}

/** The connection options every queue, worker and event listener of shardlab uses. */
export function connection(url: string, worker = false) {
  // Workers block on Redis and must retry for ever (BullMQ requires it); the submitter's polls retry on their own.
  return { url, maxRetriesPerRequest: worker ? null : 1 };
}

export function openQueue(url: string): Queue<EvaluationJob, QualityRow> {
  const q = new Queue<EvaluationJob, QualityRow>(QUEUE_NAME, { connection: connection(url) });
  q.on('error', () => {}); // reconnection is ioredis's; polls see the outage and retry
  return q;
}
