/**
 * Redis for the queue tests: a redis-server of this test file's own on a free loopback port (no
 * persistence), which a test may stop and start again. Where redis-server is missing the tests skip with
 * a message, except under CI (.ci/run installs it), where they fail.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

const SERVER = 'redis-server';

/** Why the queue tests cannot run here (undefined when they can); under CI a missing server is a failure, not a skip. */
export function redisMissing(): string | false {
  if (spawnSync(SERVER, ['--version']).status === 0) return false;
  if (process.env.CI) throw new Error(`${SERVER} is not installed; CI must install it (.ci/run does)`);
  return `${SERVER} is not installed (apt-get install redis-server)`;
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  return port;
}

export class TestRedis {
  private child?: ChildProcess;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<TestRedis> {
    const r = new TestRedis(await freePort());
    await r.up();
    return r;
  }

  /** Starts the server (again) on the same port and waits until it answers. */
  async up(): Promise<void> {
    this.child = spawn(SERVER, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      const c = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => {});
      try {
        await c.connect();
        await c.ping();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        c.disconnect();
      }
    }
    throw new Error(`${SERVER} did not answer on port ${this.port}`);
  }

  /** Stops the server (everything it held is gone: it keeps nothing on disk). */
  async down(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null) return;
    c.kill('SIGKILL');
    await once(c, 'exit');
  }
}

let own: Promise<TestRedis> | undefined;

/**
 * An empty Redis database `db` (1–15) for one test: on $SHARDLAB_TEST_REDIS (the server .ci/run starts)
 * when set, else on a server of this file's own, started on first use and stopped by `stopOwnRedis`.
 */
export async function emptyRedisDb(db: number): Promise<string> {
  const base = process.env.SHARDLAB_TEST_REDIS || (await (own ??= TestRedis.start())).url;
  const url = `${base.replace(/\/\d*$/, '')}/${db}`;
  const c = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    await c.flushdb();
  } finally {
    c.disconnect();
  }
  return url;
}

export async function stopOwnRedis(): Promise<void> {
  if (own) await (await own).down();
}
