/**
 * The experiment store: SQLite through better-sqlite3, WAL journal, numbered migrations tracked in
 * PRAGMA user_version, every write in a transaction.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { UserError } from '../core/errors.js';
import type { Sweep, SweepRow, SweepSpec, SweepSummary } from '../sweep/types.js';
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
];

export interface AccuracyKey {
  model: string;
  task: string;
  split: string;
  configHash: string;
}

export interface AccuracyRow extends AccuracyKey {
  config: string;
  examples: number;
  correct: number;
  accuracy: number;
  seconds: number;
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

export class ExperimentStore {
  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
  ) {}

  static open(path = defaultDbPath()): ExperimentStore {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      migrate(db);
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`${path}: cannot open as a shardlab experiment database (${(e as Error).message}); pass another --db`);
    }
    return new ExperimentStore(path, db);
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  getAccuracy(k: AccuracyKey): AccuracyRow | undefined {
    const row = this.db
      .prepare('SELECT * FROM accuracy_cache WHERE model = ? AND task = ? AND split = ? AND config_hash = ?')
      .get(k.model, k.task, k.split, k.configHash) as Record<string, unknown> | undefined;
    return (
      row && {
        model: row.model as string,
        task: row.task as string,
        split: row.split as string,
        configHash: row.config_hash as string,
        config: row.config as string,
        examples: row.examples as number,
        correct: row.correct as number,
        accuracy: row.accuracy as number,
        seconds: row.seconds as number,
      }
    );
  }

  putAccuracy(r: AccuracyRow): void {
    this.db.transaction(() =>
      this.db
        .prepare('INSERT OR REPLACE INTO accuracy_cache VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(r.model, r.task, r.split, r.configHash, r.config, r.examples, r.correct, r.accuracy, r.seconds, new Date().toISOString()),
    )();
  }

  importance(k: ImportanceKey): ImportanceRow[] {
    return this.db
      .prepare(
        'SELECT layer, slice, score, accuracy FROM importance WHERE model = ? AND task = ? AND split = ? AND method = ? ORDER BY layer, slice',
      )
      .all(k.model, k.task, k.split, k.method) as ImportanceRow[];
  }

  putImportance(k: ImportanceKey, r: ImportanceRow): void {
    this.db.transaction(() =>
      this.db
        .prepare('INSERT OR REPLACE INTO importance VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(k.model, k.task, k.split, k.method, r.layer, r.slice, r.score, r.accuracy, new Date().toISOString()),
    )();
  }

  /** Stores a finished sweep and its rows in one transaction; returns it with its new id. */
  putSweep(head: { spec: SweepSpec; modelChecksum: string; task: string }, rows: SweepRow[]): Sweep {
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

  listSweeps(): SweepSummary[] {
    const rows = this.db
      .prepare('SELECT s.*, (SELECT COUNT(*) FROM sweep_rows r WHERE r.sweep_id = s.id) AS n FROM sweeps s ORDER BY s.id DESC')
      .all() as Record<string, unknown>[];
    return rows.map(summaryOf);
  }

  getSweep(id: number): Sweep | undefined {
    const head = this.db
      .prepare('SELECT s.*, (SELECT COUNT(*) FROM sweep_rows r WHERE r.sweep_id = s.id) AS n FROM sweeps s WHERE s.id = ?')
      .get(id) as Record<string, unknown> | undefined;
    if (!head) return undefined;
    const rows = this.db.prepare('SELECT row FROM sweep_rows WHERE sweep_id = ? ORDER BY idx').all(id) as { row: string }[];
    return { ...summaryOf(head), rows: rows.map((r) => JSON.parse(r.row) as SweepRow) };
  }

  /** Deletes a sweep and its rows; false when there is no such sweep. */
  deleteSweep(id: number): boolean {
    return this.db.transaction(() => this.db.prepare('DELETE FROM sweeps WHERE id = ?').run(id).changes > 0)();
  }

  close(): void {
    this.db.close();
  }
}

function summaryOf(r: Record<string, unknown>): SweepSummary {
  return {
    id: r.id as number,
    createdAt: r.created_at as string,
    spec: JSON.parse(r.spec as string) as SweepSpec,
    modelChecksum: r.model as string,
    task: r.task as string,
    rowCount: r.n as number,
  };
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length)
    throw new UserError(
      `${db.name}: experiment database schema ${version} is newer than this shardlab (${MIGRATIONS.length}); upgrade shardlab`,
    );
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
