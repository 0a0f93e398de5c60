/**
 * shardlab sweep --queue / --resume and the queued sweeps of shardlab sweeps: a sweep whose uncached
 * configurations are evaluated by workers through a BullMQ queue on Redis, recorded in the experiment
 * store from submission (spec, queue, jobs, counts) until its rows are stored like a local sweep's.
 */
import { UserError } from '../../core/errors.js';
import { ExperimentStore, type QueuedSweep } from '../../store/db.js';
import { checkReachable, parseQueueUrl } from '../../sweep/queue.js';
import { evaluateThroughQueue, jobCounts, type QueueCounts } from '../../sweep/queue-submit.js';
import type { SweepSpec } from '../../sweep/types.js';
import { sweepAndPrint, type SweepFlags } from './sweep-run.js';

/** How often the submitter looks at its jobs, ms ($SHARDLAB_QUEUE_POLL_MS; tests look more often). */
function pollMs(): number {
  const ms = Number(process.env.SHARDLAB_QUEUE_POLL_MS);
  return ms > 0 ? ms : 500;
}

/** shardlab sweep --queue URL: records the sweep as queued, then runs it with the queue's workers. */
export async function submitQueuedSweep(spec: SweepSpec, url: string, f: SweepFlags): Promise<void> {
  parseQueueUrl(url);
  await checkReachable(url);
  const db = ExperimentStore.open(f.db);
  try {
    const id = db.putQueuedSweep(spec, url);
    await runQueued(id, spec, url, db, f);
  } finally {
    db.close();
  }
}

/** Spec flags a resumed sweep takes from the store instead. */
const SPEC_FLAGS: (keyof SweepFlags)[] = ['model', 'socs', 'targetsMs', 'buffersKb', 'planners', 'split', 'limit', 'importance', 'seq'];

/** shardlab sweep --resume ID: the queued sweep again; only configurations not yet in the store are queued. */
export async function resumeQueuedSweep(id: number, f: SweepFlags): Promise<void> {
  const given = SPEC_FLAGS.find((k) => f[k] !== undefined);
  if (given) throw new UserError(`--resume ${id} takes the queued sweep's own spec; drop --${kebab(given)}`);
  const db = ExperimentStore.open(f.db);
  try {
    const q = db.getQueuedSweep<SweepSpec>(id);
    if (!q) throw new UserError(`--resume ${id}: no queued sweep ${id} in ${db.path}; \`shardlab sweeps\` lists them`);
    if (q.sweepId !== undefined) throw new UserError(`--resume ${id}: that sweep is finished, stored as sweep ${q.sweepId}`);
    const url = parseQueueUrl(f.queue ?? q.queue);
    await checkReachable(url);
    await runQueued(id, q.spec, url, db, f);
  } finally {
    db.close();
  }
}

async function runQueued(id: number, spec: SweepSpec, url: string, db: ExperimentStore, f: SweepFlags): Promise<void> {
  const people = !f.json && !f.csv;
  const say = (text: string) => people && console.error(text);
  say(`queued sweep ${id} on ${url} (stopped, it resumes with \`shardlab sweep --resume ${id}\`)`);
  let last = { done: 0, failed: 0 };
  const sweep = await sweepAndPrint(
    spec,
    db,
    f,
    { onPending: (pending) => say(`queued sweep ${id}: ${pending.length} configurations to evaluate by the queue's workers`) },
    (showCounts) =>
      evaluateThroughQueue(url, {
        pollMs: pollMs(),
        onJobs: (jobs) => db.updateQueuedSweep(id, { queue: url, jobs, done: 0, failed: 0 }),
        onCounts: (c) => {
          if (c.done !== last.done || c.failed !== last.failed) db.updateQueuedSweep(id, (last = { done: c.done, failed: c.failed }));
          showCounts(`configurations: ${countsText(c)}`);
        },
        onOutage: (down, why) => say(down ? `Redis at ${url} does not answer (${why}); waiting for it` : `Redis at ${url} answers again`),
        resumeHint: `resume with \`shardlab sweep --resume ${id}\` once the cause is fixed`,
      }),
  );
  db.updateQueuedSweep(id, { ...last, sweepId: sweep.id });
}

function countsText(c: Omit<QueueCounts, 'total'>): string {
  return `done ${c.done}, running ${c.running}, failed ${c.failed}, waiting ${c.waiting}`;
}

/** The queued sweeps not stored yet, one line each, with their jobs' counts from Redis when it answers. */
export async function queuedSweepLines(db: ExperimentStore): Promise<string[]> {
  const lines: string[] = [];
  for (const q of db.listQueuedSweeps<SweepSpec>()) lines.push(await queuedLine(q));
  return lines;
}

async function queuedLine(q: QueuedSweep<SweepSpec>): Promise<string> {
  const head = `q${String(q.id).padStart(3)}  ${q.createdAt}  queued    ${q.spec.socs.join(',')}  ${q.jobs.length} configurations`;
  const tail = `${q.spec.model}  (${q.queue}; --resume ${q.id})`;
  try {
    await checkReachable(q.queue);
    return `${head} (${countsText(await jobCounts(q.queue, q.jobs))})  ${tail}`;
  } catch {
    return `${head} (${countsText({ done: q.done, failed: q.failed, running: 0, waiting: q.jobs.length - q.done - q.failed })} as last seen; Redis does not answer)  ${tail}`;
  }
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
