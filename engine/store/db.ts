/**
 * The experiment store: SQLite through better-sqlite3, WAL journal, numbered migrations tracked in
 * PRAGMA user_version, every write in a transaction.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { UserError } from '../core/errors.js';
import { defaultDbPath } from '../core/paths.js';

const MIGRATIONS: string[] = [
  `CREATE TABLE accuracy_cache (
     model TEXT NOT NULL, task TEXT NOT NULL, split TEXT NOT NULL, config_hash TEXT NOT NULL,
     config TEXT NOT NULL, examples INTEGER NOT NULL, correct INTEGER NOT NULL, accuracy REAL NOT NULL,
     seconds REAL NOT NULL, created_at TEXT NOT NULL,
     PRIMARY KEY (model, task, split, config_hash));
   CREATE TABLE importance (
     model TEXT NOT NULL, task TEXT NOT NULL, split TEXT NOT NULL, method TEXT NOT NULL,
     layer INTEGER NOT NULL, slice INTEGER NOT NULL, score REAL NOT NULL, accuracy REAL NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (model, task, split, method, layer, slice));`,
  `CREATE TABLE sweeps (
     id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, spec TEXT NOT NULL,
     model TEXT NOT NULL, task TEXT NOT NULL);
   CREATE TABLE sweep_rows (
     sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
     soc TEXT NOT NULL, planner TEXT NOT NULL, target_ms REAL NOT NULL, buffer_kb REAL NOT NULL,
     row TEXT NOT NULL,
     PRIMARY KEY (sweep_id, idx));`,
  // 3: a quality cache for any metric (accuracy, perplexity, …), with the count it was measured on.
  `CREATE TABLE quality (
     model TEXT NOT NULL, task TEXT NOT NULL, split TEXT NOT NULL, config_hash TEXT NOT NULL, metric TEXT NOT NULL,
     config TEXT NOT NULL, value REAL NOT NULL, count INTEGER NOT NULL, seconds REAL NOT NULL, created_at TEXT NOT NULL,
     PRIMARY KEY (model, task, split, config_hash, metric));
   INSERT INTO quality
     SELECT model, task, split, config_hash, 'accuracy', config, accuracy, examples, seconds, created_at FROM accuracy_cache;
   DROP TABLE accuracy_cache;`,
  // 4: sweeps evaluated through a distributed queue, from submission until their rows are stored.
  `CREATE TABLE queued_sweeps (
     id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, spec TEXT NOT NULL, queue TEXT NOT NULL,
     jobs TEXT NOT NULL, done INTEGER NOT NULL, failed INTEGER NOT NULL, sweep_id INTEGER);`,
  // 5: users' own data files (--data), by content hash: what was read and each row's split, as measured.
  `CREATE TABLE data_files (
     hash TEXT PRIMARY KEY, path TEXT NOT NULL, format TEXT NOT NULL, kind TEXT NOT NULL, rows INTEGER NOT NULL,
     labels TEXT NOT NULL, split_from TEXT NOT NULL, assignment TEXT NOT NULL, created_at TEXT NOT NULL);`,
];

/** The statements run once per point or row, prepared once per connection (ExperimentStore.stmt). */
const SQL = {
  getQuality: 'SELECT * FROM quality WHERE model = ? AND task = ? AND split = ? AND config_hash = ? AND metric = ?',
  putQuality: 'INSERT OR REPLACE INTO quality VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  putImportance: 'INSERT OR REPLACE INTO importance VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
};

/** A cached evaluation: a model (checksum) on a task's split, in one configuration, by one metric. */
export interface QualityKey {
  model: string;
  task: string;
  split: string;
  configHash: string;
  metric: string;
}

export interface QualityRow extends QualityKey {
  /** The configuration as JSON, for the record. */
  config: string;
  value: number;
  /** What the value was measured on: examples for accuracy, tokens for perplexity. */
  count: number;
  seconds: number;
}

/** The columns a stored sweep row is indexed by; the row itself is stored as JSON. */
export interface SweepRowKey {
  soc: string;
  planner: string;
  targetMs: number;
  bufferKb: number;
}

export interface StoredSweepSummary<Spec = unknown> {
  id: number;
  createdAt: string;
  spec: Spec;
  modelChecksum: string;
  task: string;
  rowCount: number;
}

export interface StoredSweep<Spec = unknown, Row = unknown> extends StoredSweepSummary<Spec> {
  rows: Row[];
}

/** A sweep submitted to a queue: its spec, the queue's URL, its jobs and how many are done, until it is stored. */
export interface QueuedSweep<Spec = unknown> {
  id: number;
  createdAt: string;
  spec: Spec;
  queue: string;
  /** The queue's job ids of the configurations its latest submission waits for. */
  jobs: string[];
  done: number;
  failed: number;
  /** The stored sweep, once every row is in. */
  sweepId?: number;
}

export interface ImportanceRow {
  layer: number;
  slice: number;
  score: number;
  accuracy: number;
}

export interface ImportanceKey {
  model: string;
  task: string;
  split: string;
  method: string;
}

/** A data file measured on (--data): its content hash, what it held and each row's split (d, t or r per row, in file order). */
export interface DataFileRecord {
  hash: string;
  path: string;
  format: string;
  kind: string;
  rows: number;
  labels: string[];
  splitFrom: string;
  assignment: string;
}

export class ExperimentStore {
  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
  ) {}

  private readonly statements = new Map<string, Database.Statement>();

  private stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  static open(path = defaultDbPath()): ExperimentStore {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    try {
      return new ExperimentStore(path, openWhenFree(path));
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`${path}: cannot open as a shardlab experiment database (${(e as Error).message}); pass another --db`);
    }
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  getQuality(k: QualityKey): QualityRow | undefined {
    const row = this.stmt(SQL.getQuality).get(k.model, k.task, k.split, k.configHash, k.metric) as Record<string, unknown> | undefined;
    return (
      row && {
        model: row.model as string,
        task: row.task as string,
        split: row.split as string,
        configHash: row.config_hash as string,
        metric: row.metric as string,
        config: row.config as string,
        value: row.value as number,
        count: row.count as number,
        seconds: row.seconds as number,
      }
    );
  }

  /** A metric of a model and setting on every split (or sample) it was measured on, most examples first. */
  qualityAcrossSplits(k: Omit<QualityKey, 'split'>): { split: string; value: number; count: number }[] {
    return this.db
      .prepare(
        'SELECT split, value, count FROM quality WHERE model = ? AND task = ? AND config_hash = ? AND metric = ? ORDER BY count DESC, split',
      )
      .all(k.model, k.task, k.configHash, k.metric) as { split: string; value: number; count: number }[];
  }

  putQuality(r: QualityRow): void {
    this.db.transaction(() =>
      this.stmt(SQL.putQuality).run(
        r.model,
        r.task,
        r.split,
        r.configHash,
        r.metric,
        r.config,
        r.value,
        r.count,
        r.seconds,
        new Date().toISOString(),
      ),
    )();
  }

  importance(k: ImportanceKey): ImportanceRow[] {
    return this.db
      .prepare(
        'SELECT layer, slice, score, accuracy FROM importance WHERE model = ? AND task = ? AND split = ? AND method = ? ORDER BY layer, slice',
      )
      .all(k.model, k.task, k.split, k.method) as ImportanceRow[];
  }

  /** The split keys importance rows are stored under for a model, task and method, with their row counts. */
  importanceSplits(k: Omit<ImportanceKey, 'split'>): { split: string; rows: number }[] {
    return this.db
      .prepare('SELECT split, COUNT(*) AS rows FROM importance WHERE model = ? AND task = ? AND method = ? GROUP BY split ORDER BY split')
      .all(k.model, k.task, k.method) as { split: string; rows: number }[];
  }

  putImportance(k: ImportanceKey, r: ImportanceRow): void {
    this.db.transaction(() =>
      this.stmt(SQL.putImportance).run(k.model, k.task, k.split, k.method, r.layer, r.slice, r.score, r.accuracy, new Date().toISOString()),
    )();
  }

  /** Stores a finished sweep and its rows in one transaction; returns it with its new id. */
  putSweep<Spec, Row extends SweepRowKey>(head: { spec: Spec; modelChecksum: string; task: string }, rows: Row[]): StoredSweep<Spec, Row> {
    const createdAt = new Date().toISOString();
    const id = this.db.transaction(() => {
      const r = this.db
        .prepare('INSERT INTO sweeps (created_at, spec, model, task) VALUES (?, ?, ?, ?)')
        .run(createdAt, JSON.stringify(head.spec), head.modelChecksum, head.task);
      const insert = this.db.prepare('INSERT INTO sweep_rows VALUES (?, ?, ?, ?, ?, ?, ?)');
      rows.forEach((x, i) => insert.run(r.lastInsertRowid, i, x.soc, x.planner, x.targetMs, x.bufferKb, JSON.stringify(x)));
      return Number(r.lastInsertRowid);
    })();
    return { id, createdAt, ...head, rowCount: rows.length, rows };
  }

  listSweeps<Spec = unknown>(): StoredSweepSummary<Spec>[] {
    const rows = this.db
      .prepare('SELECT s.*, (SELECT COUNT(*) FROM sweep_rows r WHERE r.sweep_id = s.id) AS n FROM sweeps s ORDER BY s.id DESC')
      .all() as Record<string, unknown>[];
    return rows.map((r) => summaryOf<Spec>(r));
  }

  getSweep<Spec = unknown, Row = unknown>(id: number): StoredSweep<Spec, Row> | undefined {
    const head = this.db
      .prepare('SELECT s.*, (SELECT COUNT(*) FROM sweep_rows r WHERE r.sweep_id = s.id) AS n FROM sweeps s WHERE s.id = ?')
      .get(id) as Record<string, unknown> | undefined;
    if (!head) return undefined;
    const rows = this.db.prepare('SELECT row FROM sweep_rows WHERE sweep_id = ? ORDER BY idx').all(id) as { row: string }[];
    return { ...summaryOf<Spec>(head), rows: rows.map((r) => JSON.parse(r.row) as Row) };
  }

  /** Deletes a sweep and its rows; false when there is no such sweep. */
  deleteSweep(id: number): boolean {
    return this.db.transaction(() => this.db.prepare('DELETE FROM sweeps WHERE id = ?').run(id).changes > 0)();
  }

  /** Records a sweep submitted to a queue; returns its id (what `shardlab sweep --resume` takes). */
  putQueuedSweep(spec: unknown, queue: string): number {
    const r = this.db
      .prepare("INSERT INTO queued_sweeps (created_at, spec, queue, jobs, done, failed) VALUES (?, ?, ?, '[]', 0, 0)")
      .run(new Date().toISOString(), JSON.stringify(spec), queue);
    return Number(r.lastInsertRowid);
  }

  /** A queued sweep's progress: the jobs its submission waits for (when given) and the counts so far. */
  updateQueuedSweep(id: number, u: { queue?: string; jobs?: string[]; done: number; failed: number; sweepId?: number }): void {
    const set = this.db.prepare(
      'UPDATE queued_sweeps SET queue = COALESCE(?, queue), jobs = COALESCE(?, jobs), done = ?, failed = ?, sweep_id = ? WHERE id = ?',
    );
    this.db.transaction(() => set.run(u.queue ?? null, u.jobs ? JSON.stringify(u.jobs) : null, u.done, u.failed, u.sweepId ?? null, id))();
  }

  getQueuedSweep<Spec = unknown>(id: number): QueuedSweep<Spec> | undefined {
    const r = this.db.prepare('SELECT * FROM queued_sweeps WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return r && queuedOf<Spec>(r);
  }

  /** Queued sweeps whose rows are not stored yet, newest first. */
  listQueuedSweeps<Spec = unknown>(): QueuedSweep<Spec>[] {
    const rows = this.db.prepare('SELECT * FROM queued_sweeps WHERE sweep_id IS NULL ORDER BY id DESC').all() as Record<string, unknown>[];
    return rows.map((r) => queuedOf<Spec>(r));
  }

  /** Records a data file by its content hash (the latest path it was read from wins). */
  putDataFile(d: DataFileRecord): void {
    this.db.transaction(() =>
      this.db
        .prepare('INSERT OR REPLACE INTO data_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(d.hash, d.path, d.format, d.kind, d.rows, JSON.stringify(d.labels), d.splitFrom, d.assignment, new Date().toISOString()),
    )();
  }

  getDataFile(hash: string): DataFileRecord | undefined {
    const r = this.db.prepare('SELECT * FROM data_files WHERE hash = ?').get(hash) as Record<string, unknown> | undefined;
    return (
      r && {
        hash: r.hash as string,
        path: r.path as string,
        format: r.format as string,
        kind: r.kind as string,
        rows: r.rows as number,
        labels: JSON.parse(r.labels as string) as string[],
        splitFrom: r.split_from as string,
        assignment: r.assignment as string,
      }
    );
  }

  close(): void {
    this.db.close();
  }
}

function queuedOf<Spec>(r: Record<string, unknown>): QueuedSweep<Spec> {
  return {
    id: r.id as number,
    createdAt: r.created_at as string,
    spec: JSON.parse(r.spec as string) as Spec,
    queue: r.queue as string,
    jobs: JSON.parse(r.jobs as string) as string[],
    done: r.done as number,
    failed: r.failed as number,
    sweepId: (r.sweep_id as number | null) ?? undefined,
  };
}

function summaryOf<Spec>(r: Record<string, unknown>): StoredSweepSummary<Spec> {
  return {
    id: r.id as number,
    createdAt: r.created_at as string,
    spec: JSON.parse(r.spec as string) as Spec,
    modelChecksum: r.model as string,
    task: r.task as string,
    rowCount: r.n as number,
  };
}

/** How long opening waits for other processes that hold the database (a sweep writing, another CLI migrating). */
const OPEN_PATIENCE_MS = 30_000;

/**
 * Opens, switches to WAL and migrates, retrying while another process holds a lock. The busy timeout
 * covers ordinary lock waits, but SQLite answers some open-time races at once with SQLITE_BUSY (a
 * WAL being recovered or removed by a connection that is closing; CI saw two CLIs opening a new home
 * at once fail so), so the whole sequence is retried on a fresh connection until the patience runs out.
 */
function openWhenFree(path: string): Database.Database {
  const deadline = Date.now() + OPEN_PATIENCE_MS;
  for (let attempt = 0; ; attempt++) {
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { timeout: 10_000 });
      if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      migrate(db);
      return db;
    } catch (e) {
      db?.close();
      if (!isBusy(e) || Date.now() >= deadline) throw e;
      sleepMs(Math.min(20 * 2 ** attempt, 500) * (0.5 + Math.random()));
    }
  }
}

function isBusy(e: unknown): boolean {
  return typeof (e as { code?: unknown }).code === 'string' && (e as { code: string }).code.startsWith('SQLITE_BUSY');
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length)
    throw new UserError(
      `${db.name}: experiment database schema ${version} is newer than this shardlab (${MIGRATIONS.length}); upgrade shardlab`,
    );
  for (let v = version; v < MIGRATIONS.length; v++) {
    // BEGIN IMMEDIATE takes the write lock first, so two processes opening a new database migrate it once:
    // the second waits, then finds the step done.
    db.transaction(() => {
      if ((db.pragma('user_version', { simple: true }) as number) > v) return;
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
