/** A BERT sweep as the CLI runs it, locally or through a queue: its flags, progress bars and printed rows. */
import { progressBar } from '../../core/progress.js';
import { familyOf } from '../../families/index.js';
import type { ExperimentStore } from '../../store/db.js';
import { runSweep, type SweepOptions } from '../../sweep/sweep.js';
import { rowsWithoutEvents, streamingTable, sweepCsv } from '../../sweep/table.js';
import type { Sweep, SweepSpec } from '../../sweep/types.js';

/** The sweep's flags: a BERT sweep's spec (`--planners all` included) or an RWKV sweep's, each family's defaults not yet applied. */
export interface SweepFlags {
  /** Required unless resuming. */
  model?: string;
  socs?: string[];
  // BERT
  targetsMs?: number[];
  buffersKb?: number[];
  planners?: string[];
  split?: 'dev' | 'test';
  limit?: number;
  importance?: string;
  seq?: number;
  /** A labelled data file of one's own to measure accuracy on (local sweeps only). */
  data?: string;
  // RWKV
  memoryMb?: number[];
  settings?: string[];
  tokenMs?: number[];
  runTokens?: number;
  measure?: boolean;
  prompt?: string;
  db?: string;
  json?: boolean;
  csv?: boolean;
  // A distributed sweep
  queue?: string;
  resume?: number;
}

/** Runs a BERT sweep with its progress bars and streaming table, then prints the stored sweep as the flags ask. */
export async function sweepAndPrint(
  spec: SweepSpec,
  db: ExperimentStore,
  f: SweepFlags,
  extra: SweepOptions = {},
  /** A queue's evaluation, given how to show its counts beside the sweep's bar. */
  queued?: (showCounts: (note: string) => void) => SweepOptions['evaluate'],
): Promise<Sweep> {
  const people = !f.json && !f.csv;
  const bars = { importance: progressBar('importance profile', people), sweep: progressBar('sweep', people) };
  const bar = { done: 0, total: 0, note: '' };
  const showCounts = (note: string) => {
    bar.note = note;
    if (bar.total > 0) bars.sweep.update(bar.done, bar.total, note);
  };
  const table = streamingTable(
    spec.planners.includes('all')
      ? {
          ...spec,
          planners: familyOf(spec.model)
            .planners()
            .map((p) => p.name),
        }
      : spec,
  );
  let printed = 0;
  try {
    const sweep = await runSweep(spec, db, {
      ...extra,
      evaluate: queued?.(showCounts) ?? extra.evaluate,
      onPending: (pending, points) => {
        bars.importance.stop();
        extra.onPending?.(pending, points);
        bar.total = points;
        showCounts(bar.note);
      },
      onProgress: (done, total, stage) => {
        if (stage === 'sweep') {
          bars.importance.stop();
          Object.assign(bar, { done, total });
          return bars.sweep.update(done, total, bar.note);
        }
        bars[stage].update(done, total);
      },
      // The table a row at a time as the rows land; JSON and CSV wait for the stored sweep (one document).
      onRow: (r) => {
        if (!people) return;
        // On a terminal the row takes the progress bar's line and the bar is redrawn below it. The bar restores
        // the cursor it saved at its start when it stops, so the cursor is saved again below each row.
        if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
        if (printed++ === 0) console.log(table.header);
        console.log(table.row(r));
        if (process.stderr.isTTY) process.stderr.write('\x1b7');
      },
    });
    bars.sweep.stop();
    if (f.json) console.log(JSON.stringify({ ...sweep, rows: rowsWithoutEvents(sweep.rows) }));
    else if (f.csv) process.stdout.write(sweepCsv(sweep.rows));
    else console.log(`stored as sweep ${sweep.id} in ${db.path}; \`shardlab report ${sweep.id}\` writes its HTML report`);
    return sweep;
  } finally {
    bars.importance.stop();
    bars.sweep.stop();
  }
}
