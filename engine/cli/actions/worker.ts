/** shardlab worker: evaluates queued sweeps' configurations until SIGINT or SIGTERM, one line per job. */
import { checkReachable, parseQueueUrl } from '../../sweep/queue.js';
import { startQueueWorker, type WorkerEvent } from '../../sweep/queue-worker.js';

export interface WorkerFlags {
  queue: string;
  concurrency: number;
  models?: string;
  lockMs: number;
}

export async function runWorker(f: WorkerFlags): Promise<void> {
  const url = parseQueueUrl(f.queue);
  await checkReachable(url);
  const worker = await startQueueWorker({ url, concurrency: f.concurrency, modelsRoot: f.models, lockMs: f.lockMs, onEvent: print });
  console.log(`worker ${process.pid}: waiting for jobs on ${url} (${f.concurrency} at once); Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    let asked = false;
    // The first signal lets the jobs in hand finish (and be reported); a second stops at once, e.g. when Redis is gone.
    const stop = () => {
      if (asked) process.exit(130);
      asked = true;
      console.log(`worker ${process.pid}: finishing the jobs in hand, then stopping (signal again to stop at once)`);
      void worker.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** The last error printed: a Redis that is away reports the same one at every reconnection attempt. */
let lastError = '';

function print(e: WorkerEvent): void {
  if (e.type !== 'error') lastError = '';
  if (e.type === 'started') console.log(`started ${e.configHash} (job ${e.id})`);
  else if (e.type === 'completed') console.log(`done ${e.configHash}: ${e.value} in ${e.seconds.toFixed(1)} s`);
  else if (e.type === 'failed') console.log(`failed ${e.configHash}: ${e.reason}${e.final ? '' : ' (it will be tried again)'}`);
  else if (e.message !== lastError) console.error(`worker: ${(lastError = e.message)}`);
}
