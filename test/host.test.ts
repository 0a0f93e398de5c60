/**
 * The workbench host survives its engine: a job's process killed while onnxruntime computes in it, a
 * cancelled job that does not stop, a service process killed while a call waits on it. In each case the
 * host (this test's own process: were it to abort, the run would fail) goes on, the job is reported
 * settled, and the next call and the next job work. Jobs beyond the host's slots wait, queued.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { JobEvent, JobSpec } from '../engine/workbench/api.js';
import { tempDir } from './helpers.js';

process.env.SHARDLAB_HOME = tempDir('shardlab-host-');
const { WorkbenchHost, CallError } = await import('../engine/workbench/host.js');

/** The full dev split of bert-sotu-era (1,591 examples): long enough to be killed mid-run. */
const Q = { soc: 'odroid-n2plus', model: 'bert-sotu-era', planner: 'stdpl-32', targetMs: 100, bufferKb: 1536 };
const accuracy = (evalLimit?: number): JobSpec => ({ kind: 'accuracy', query: evalLimit ? { ...Q, evalLimit } : Q });
const SETTLED = new Set(['done', 'error', 'cancelled']);

describe('WorkbenchHost: the engine in child processes', () => {
  const host = new WorkbenchHost('test', { jobSlots: 1 });
  after(() => host.close());
  const events: JobEvent[] = [];
  host.onEvent((e) => events.push(e));

  /** The first event of a job that passes `ok`, waiting for it as long as it takes. */
  const next = (jobId: string, ok: (e: JobEvent) => boolean) =>
    new Promise<JobEvent>((resolve) => {
      const seen = events.find((e) => e.jobId === jobId && ok(e));
      if (seen) return resolve(seen);
      const stop = host.onEvent((e) => {
        if (e.jobId === jobId && ok(e)) {
          stop();
          resolve(e);
        }
      });
    });
  const settled = (jobId: string) => next(jobId, (e) => SETTLED.has(e.type));
  const start = async (spec: JobSpec) => ((await host.call('startJob', spec)) as { jobId: string }).jobId;
  /** A job's events but its progress; its waits for a slot too unless `queued` (the slot frees when the previous process exits). */
  const typesOf = (jobId: string, queued = false) =>
    events.filter((e) => e.jobId === jobId && e.type !== 'progress' && (queued || e.type !== 'queued')).map((e) => e.type);
  const midRun = (e: JobEvent) => e.type === 'progress' && e.done > 0 && e.done < e.total;

  test('a job process killed while onnxruntime computes is an error; the host, its calls and the next job go on', async () => {
    const jobId = await start(accuracy());
    await next(jobId, midRun);
    // Right after a batch's progress the next batch is already running in onnxruntime.
    process.kill(host.jobs.pid(jobId)!, 'SIGKILL');
    const end = await settled(jobId);
    assert.equal(end.type, 'error');
    assert.match((end as { message: string }).message, /^the job's process died \(killed by SIGKILL\) before it finished/);
    assert.deepEqual(typesOf(jobId), ['started', 'error'], 'settled once');
    assert.deepEqual(await host.call('listJobs', {}), []);
    const plan = (await host.call('plan', Q)) as { makespanMs: number };
    assert.ok(plan.makespanMs > 0);
    const again = await start(accuracy(20));
    const done = await settled(again);
    assert.equal(done.type, 'done', JSON.stringify(done));
    const result = (done as { result: { accuracy: number; examples: number } }).result;
    assert.equal(result.examples, 20);
    assert.ok(result.accuracy >= 0 && result.accuracy <= 1);
  });

  test('a cancelled job stops between batches; one that does not stop is killed after the grace, and settles as cancelled', async () => {
    const polite = await start(accuracy());
    await next(polite, midRun);
    assert.deepEqual(await host.call('cancelJob', { jobId: polite }), { cancelled: true });
    assert.equal((await settled(polite)).type, 'cancelled');
    assert.deepEqual(await host.call('cancelJob', { jobId: polite }), { cancelled: false }, 'a settled job cannot be cancelled');

    const stuck = await start(accuracy());
    await next(stuck, midRun);
    // A stopped process cannot react to the cancel: only the kill after the grace ends it.
    process.kill(host.jobs.pid(stuck)!, 'SIGSTOP');
    assert.deepEqual(await host.call('cancelJob', { jobId: stuck }), { cancelled: true });
    assert.equal((await settled(stuck)).type, 'cancelled');
    assert.deepEqual(typesOf(stuck), ['started', 'cancelled']);
  });

  test('jobs beyond the slots wait queued, in order; a queued job cancels at once; every job settles', async () => {
    const first = await start(accuracy());
    const second = await start(accuracy(20));
    const third = await start(accuracy(20));
    await next(first, (e) => e.type === 'started');
    assert.deepEqual(
      ((await host.call('listJobs', {})) as { jobId: string; state: string }[]).map((j) => [j.jobId, j.state]),
      [
        [first, 'running'],
        [second, 'queued'],
        [third, 'queued'],
      ],
    );
    assert.deepEqual(await next(third, (e) => e.type === 'queued'), { jobId: third, kind: 'accuracy', type: 'queued', ahead: 1 });
    assert.deepEqual(await host.call('cancelJob', { jobId: third }), { cancelled: true });
    assert.equal((await settled(third)).type, 'cancelled');
    assert.deepEqual(typesOf(third, true), ['queued', 'cancelled'], 'a queued job never starts once cancelled');
    await next(first, midRun);
    assert.ok(!typesOf(second).includes('started'), 'the second waits while the first runs');
    await host.call('cancelJob', { jobId: first });
    assert.equal((await settled(first)).type, 'cancelled');
    assert.equal((await settled(second)).type, 'done');
    assert.deepEqual(await host.call('listJobs', {}), []);
  });

  test('a service process killed while a call waits fails that call with one line, restarts, says so, and answers', async () => {
    await host.call('listSocs', {});
    const pid = host.servicePid!;
    const said: string[] = [];
    const stop = host.onEngine((e) => said.push(e.message));
    // Stopped, it cannot answer: the call is surely pending when the kill comes.
    process.kill(pid, 'SIGSTOP');
    const pending = host.call('plan', Q);
    process.kill(pid, 'SIGKILL');
    await assert.rejects(
      pending,
      (e: Error) =>
        e instanceof CallError &&
        !e.user &&
        e.message === 'plan: the engine stopped (killed by SIGKILL) before answering; try again' &&
        !e.message.includes('\n'),
    );
    stop();
    assert.deepEqual(said, ['the engine stopped (killed by SIGKILL) and was restarted; numbers on screen are being fetched again']);
    assert.ok(host.servicePid && host.servicePid !== pid, 'a new service process');
    const plan = (await host.call('plan', Q)) as { makespanMs: number };
    assert.ok(plan.makespanMs > 0);
  });
});
