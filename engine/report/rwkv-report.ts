/**
 * The report of an RWKV sweep: a self-contained HTML page (inline CSS and SVG, no scripts), or its rows as
 * JSON (also a regression baseline) or CSV. Per SoC: tokens/s against memory and quality against memory,
 * the planner's pick at each budget as a line and every baseline as a reference point at its own peak
 * memory; the planner against the baselines that fit each budget; predicted against really-run speed.
 */
import type { SocProfile } from '../soc/profile.js';
import { rwkvSweepCsv } from '../sweep/rwkv-table.js';
import { PLANNER_SETTING, type RwkvSweep, type RwkvSweepRow } from '../sweep/rwkv-types.js';
import { plannerStyle } from './palette.js';
import { CSS, socTables } from './setup.js';
import { chart, esc, type Series } from './svg.js';

export type RwkvReportFormat = 'html' | 'json' | 'csv';

const MIB = 2 ** 20;
const mib = (b: number) => (b / MIB).toFixed(2);
const ppl = (r: RwkvSweepRow) => (r.perplexity === undefined ? '—' : r.perplexity.toFixed(2));
const word = (r: RwkvSweepRow) => (r.lastWordAccuracy === undefined ? '—' : `${(100 * r.lastWordAccuracy).toFixed(1)} %`);
const isPlanner = (r: RwkvSweepRow) => r.setting === PLANNER_SETTING;
const picked = (r: RwkvSweepRow) => !isPlanner(r) || r.pick !== undefined;
const targetText = (t: number) => (t ? `${t} ms/token` : 'no latency target');
const groups = <T, K>(xs: T[], key: (x: T) => K): Map<K, T[]> => {
  const m = new Map<K, T[]>();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
};

export function renderRwkvReport(sweep: RwkvSweep, format: RwkvReportFormat, setup: { profiles: SocProfile[]; version: string }): string {
  if (format === 'csv') return rwkvSweepCsv(sweep.rows);
  if (format === 'json') return JSON.stringify(sweep, null, 1) + '\n';
  return html(sweep, setup);
}

/** Each baseline once per SoC (its figures do not depend on the budget; only whether it fits does). */
function baselinePoints(rows: RwkvSweepRow[]): RwkvSweepRow[] {
  const seen = new Set<string>();
  return rows.filter((r) => !isPlanner(r) && !seen.has(`${r.soc}|${r.setting}`) && seen.add(`${r.soc}|${r.setting}`));
}

function plannerSeries(rows: RwkvSweepRow[], y: (r: RwkvSweepRow) => number | undefined, what: string): Series[] {
  const targets = [...groups(rows.filter(isPlanner), (r) => r.tokenMsTarget)];
  const dashes = [undefined, '6 3', '2 3', '8 3 2 3'];
  return targets.map(([t, rs], i) => ({
    name: t ? `planner @ ${t} ms` : 'planner',
    style: { ...plannerStyle(PLANNER_SETTING), dash: dashes[i % dashes.length] },
    points: rs
      .filter((r) => r.pick !== undefined && y(r) !== undefined)
      .map((r) => ({
        x: r.memoryMiB,
        y: y(r)!,
        hollow: !r.fits,
        title: `planner, ${r.memoryMiB} MiB budget, ${targetText(t)}: ${r.pick} — ${what}; peak ${mib(r.peakBytes)} MiB, ${r.tokensPerSecond.toFixed(1)} tokens/s, perplexity ${ppl(r)}, last word ${word(r)}`,
      })),
  }));
}

function baselineSeries(rows: RwkvSweepRow[], y: (r: RwkvSweepRow) => number | undefined, what: string): Series[] {
  return [...groups(baselinePoints(rows), (r) => r.setting)]
    .filter(([, rs]) => rs.some((r) => y(r) !== undefined))
    .map(([setting, rs]) => ({
      name: setting,
      line: false,
      points: rs.map((r) => ({
        x: r.peakBytes / MIB,
        y: y(r)!,
        title: `${setting} (baseline): ${what}; peak ${mib(r.peakBytes)} MiB, ${r.tokensPerSecond.toFixed(1)} tokens/s, perplexity ${ppl(r)}, last word ${word(r)}`,
      })),
    }));
}

function charts(sweep: RwkvSweep): string {
  const out: string[] = [];
  const note = 'line: planner · points: baselines';
  for (const [soc, rows] of groups(sweep.rows, (r) => r.soc)) {
    out.push(`<h3>${esc(soc)}</h3>`);
    const speed = (r: RwkvSweepRow) => r.tokensPerSecond;
    out.push(
      chart({
        title: `Tokens/s vs memory — ${soc} (predicted steady state, log scale)`,
        xLabel: 'memory (MiB): the budget for the planner, the peak for a baseline',
        yLabel: 'tokens/s (log)',
        logY: true,
        series: [...plannerSeries(rows, speed, 'speed'), ...baselineSeries(rows, speed, 'speed')],
        note,
      }),
    );
    const quality = (r: RwkvSweepRow) => r.perplexity;
    const q = [...plannerSeries(rows, quality, 'quality'), ...baselineSeries(rows, quality, 'quality')];
    out.push(
      q.some((s) => s.points.length > 0)
        ? chart({
            title: `Quality vs memory — ${soc} (perplexity on the test sample; lower is better)`,
            xLabel: 'memory (MiB): the budget for the planner, the peak for a baseline',
            yLabel: 'perplexity',
            series: q,
            note,
          })
        : `<p class="empty">Quality vs memory — ${esc(soc)}: no quality measured (sweep with --measure).</p>`,
    );
  }
  return `<section><h2>Speed, quality and memory</h2>${out.join('\n')}</section>`;
}

/** The exhaustive search's best over the same grid: "same" when it is the pick, else its label and perplexity. */
function exhaustive(p: RwkvSweepRow): string {
  if (!p.optimum) return 'none';
  if (p.optimum === p.pick) return 'same';
  const q = p.optimumPerplexity === undefined ? '' : ` ${p.optimumPerplexity.toFixed(2)}`;
  return `<span${p.pick ? '' : ' class="bad"'}>${esc(p.optimum)}${q}</span>`;
}

/** The planner against the baselines that fit the same budget: quality (perplexity) and speed. */
function plannerSection(sweep: RwkvSweep): string {
  const planners = sweep.rows.filter(isPlanner);
  if (planners.length === 0)
    return '<section><h2>The planner against the baselines</h2><p class="empty">The sweep has no planner rows.</p></section>';
  let made = 0;
  let held = 0;
  const body = planners
    .map((p) => {
      const fitting = sweep.rows.filter((r) => !isPlanner(r) && r.soc === p.soc && r.memoryMiB === p.memoryMiB && r.fits);
      const graded = fitting.filter((r) => r.perplexity !== undefined);
      const best = graded.reduce<RwkvSweepRow | undefined>((a, r) => (!a || r.perplexity! < a.perplexity! ? r : a), undefined);
      const fastest = fitting.reduce<RwkvSweepRow | undefined>((a, r) => (!a || r.tokensPerSecond > a.tokensPerSecond ? r : a), undefined);
      let verdict = '<span class="empty">not made</span>';
      if (p.pick && p.perplexity !== undefined && best) {
        made++;
        const ok = p.perplexity <= best.perplexity! + 1e-9;
        if (ok) held++;
        verdict = ok ? '<b class="ok">yes</b>' : '<b class="bad">NO</b>';
      }
      return `<tr${p.pick ? '' : ' class="bad"'}><td>${esc(p.soc)}</td><td>${p.memoryMiB}</td><td>${esc(targetText(p.tokenMsTarget))}</td><td>${p.pick ? esc(p.pick) : `none: ${esc(p.why ?? '')}`}</td><td>${p.pick ? p.tokensPerSecond.toFixed(1) : '—'}</td><td>${p.pick ? mib(p.peakBytes) : '—'}</td><td>${ppl(p)}</td><td>${word(p)}</td><td>${exhaustive(p)}</td><td>${best ? `${esc(best.setting)} ${ppl(best)}` : '—'}</td><td>${verdict}</td><td>${fastest ? `${esc(fastest.setting)} ${fastest.tokensPerSecond.toFixed(1)}` : 'none fits'}</td></tr>`;
    })
    .join('');
  const claim =
    made === 0
      ? '<b class="empty">not made</b>: no budget has both a planner pick and a fitting baseline with measured quality'
      : held === made
        ? `<b class="ok">holds</b> at the ${made} point${made > 1 ? 's' : ''} where it could be made`
        : `<b class="bad">fails at ${made - held}</b> of the ${made} points where it could be made (rows marked NO)`;
  return `<section><h2>The planner against the baselines</h2>
<p>The planner climbs RWKV-edge's knobs (low rank, FFN predictor, hierarchical head, INT8, embedding cache) within each memory budget (predicted peak) and token-latency target, over the planning grid with each point's quality measured on the sample below. Quality check (the pick's perplexity is at most that of every baseline that fits the same budget): ${claim}. Beside each pick, the best point of the exhaustive search over the same grid (the planner's greedy climb may stop short of it, or find nothing where it finds something). The baselines include settings off the planner's grid (the paper's combination uses the x059 low rank), so the check can fail without a planner bug.</p>
<table><tr><th>SoC</th><th>budget MiB</th><th>target</th><th>pick</th><th>tokens/s</th><th>peak MiB</th><th>perplexity</th><th>last word</th><th>exhaustive search's best, perplexity</th><th>best fitting baseline, perplexity</th><th>pick ≤ it</th><th>fastest fitting baseline, tokens/s</th></tr>${body}</table></section>`;
}

function runsSection(sweep: RwkvSweep): string {
  const seen = new Set<string>();
  const rows = sweep.rows.filter(
    (r) => r.run && picked(r) && !seen.has(`${r.soc}|${r.settingHash}`) && seen.add(`${r.soc}|${r.settingHash}`),
  );
  if (rows.length === 0)
    return '<section><h2>Real runs</h2><p class="empty">The sweep ran nothing for real (--run-tokens 0).</p></section>';
  const body = rows
    .map((r) => {
      const run = r.run!;
      return `<tr><td>${esc(r.soc)}</td><td>${esc(isPlanner(r) ? `planner: ${r.pick}` : r.setting)}</td><td>${r.tokensPerSecond.toFixed(1)}</td><td>${run.tokensPerSecond.toFixed(1)}</td><td>${run.tokenMsP50.toFixed(3)}</td><td>${run.firstTokenMs.toFixed(1)}</td><td>${run.stallMs.toFixed(1)}</td><td>${(run.ioBytesPerToken / 1024).toFixed(1)}</td><td>${mib(run.peakBytes)}</td><td><code>${esc(JSON.stringify(run.text))}</code></td></tr>`;
    })
    .join('');
  return `<section><h2>Real runs</h2>
<p>Each setting generated ${sweep.spec.runTokens} tokens greedily after the prompt <code>${esc(JSON.stringify(sweep.spec.prompt))}</code> on each SoC, in virtual time: real reads from the on-storage layout, real decode, an onnxruntime step per token, each at the SoC's modeled time. Run tokens/s is over the generated tokens (the first one from cold included); predicted is the steady state.</p>
<table><tr><th>SoC</th><th>setting</th><th>predicted tokens/s</th><th>run tokens/s</th><th>run p50 ms/token</th><th>first token ms</th><th>stall ms</th><th>read KiB/token</th><th>peak MiB</th><th>text</th></tr>${body}</table></section>`;
}

function setupSection(sweep: RwkvSweep, profiles: SocProfile[]): string {
  const s = sweep.spec;
  return `<section><h2>Setup</h2><table>
<tr><td>model</td><td><code>${esc(s.model)}</code> (checksum <code>${esc(sweep.modelChecksum)}</code>)</td></tr>
<tr><td>quality</td><td>perplexity and last-word accuracy on a fixed sample of ${s.limit} passages of the ${s.split} split, ${s.measure ? 'measured where the experiment store had no answer' : 'as cached in the experiment store (not measured by the sweep)'}</td></tr>
<tr><td>speed and memory</td><td>predicted per token on each SoC's CPU (RWKV's matrix-vector steps are memory-bound) by placing a token's task graph at modeled durations; the predictors' density and the head's share of rows as measured on the same sample</td></tr>
<tr><td>memory budgets</td><td>${s.memoryMiB.join(', ')} MiB (a setting fits when its predicted peak does)</td></tr>
<tr><td>token-latency targets</td><td>${s.tokenMs.length ? `${s.tokenMs.join(', ')} ms` : 'none'}</td></tr>
<tr><td>settings</td><td>${s.settings.map(esc).join(', ')}</td></tr>
<tr><td>sweep</td><td>#${sweep.id}, ${esc(sweep.createdAt)}, ${sweep.rowCount} rows</td></tr></table>
${socTables(profiles).join('\n')}</section>`;
}

function rawTable(rows: RwkvSweepRow[]): string {
  const body = rows
    .map(
      (r) =>
        `<tr${r.fits ? '' : ' class="bad"'}><td>${esc(r.soc)}</td><td>${esc(r.setting)}</td><td>${r.pick ? esc(r.pick) : ''}</td><td>${r.memoryMiB}</td><td>${r.tokenMsTarget || ''}</td><td>${r.fits ? 'yes' : 'no'}</td><td>${r.tokensPerSecond.toFixed(2)}</td><td>${r.tokenMs.toFixed(4)}</td><td>${r.firstTokenMs.toFixed(2)}</td><td>${r.stallMsPerToken.toFixed(3)}</td><td>${r.ioBytesPerToken}</td><td>${r.persistentBytes}</td><td>${r.peakBytes}</td><td>${ppl(r)}</td><td>${word(r)}</td><td>${r.run ? r.run.tokensPerSecond.toFixed(2) : ''}</td></tr>`,
    )
    .join('');
  return `<section><h2>Raw rows</h2><table><tr><th>soc</th><th>setting</th><th>pick</th><th>memoryMiB</th><th>tokenMsTarget</th><th>fits</th><th>tokensPerSecond</th><th>tokenMs</th><th>firstTokenMs</th><th>stallMsPerToken</th><th>ioBytesPerToken</th><th>persistentBytes</th><th>peakBytes</th><th>perplexity</th><th>lastWordAccuracy</th><th>run tokens/s</th></tr>${body}</table></section>`;
}

function html(sweep: RwkvSweep, setup: { profiles: SocProfile[]; version: string }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shardlab sweep ${sweep.id}: RWKV-edge, ${esc(sweep.task)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>${CSS}</style></head><body>
<h1>shardlab sweep ${sweep.id}: RWKV-edge on ${sweep.spec.socs.map(esc).join(', ')}</h1>
<p>Generated by shardlab ${esc(setup.version)} from the experiment store. Speed and memory are predicted per SoC from the task graph a token runs; the real runs below check them against the engine generating for real in virtual time; every quality is a real evaluation of the setting.</p>
${plannerSection(sweep)}
${charts(sweep)}
${runsSection(sweep)}
${setupSection(sweep, setup.profiles)}
${rawTable(sweep.rows)}
</body></html>
`;
}
