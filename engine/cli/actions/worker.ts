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
    const stop = () => {
      console.log(`worker ${process.pid}: finishing the jobs in hand, then stopping`);
      void worker.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function print(e: WorkerEvent): void {
  if (e.type === 'started') console.log(`started ${e.configHash} (job ${e.id})`);
  else if (e.type === 'completed') console.log(`done ${e.configHash}: ${e.value} in ${e.seconds.toFixed(1)} s`);
  else if (e.type === 'failed') console.log(`failed ${e.configHash}: ${e.reason}${e.final ? '' : ' (it will be tried again)'}`);
  else console.error(`worker: ${e.message}`);
}
