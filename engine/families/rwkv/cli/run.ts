/** shardlab run for RWKV models: generation token by token on a modeled SoC (edge/run.ts), with its timeline. */
import { writeFileSync } from 'node:fs';
import { UserError } from '../../../core/errors.js';
import { RealClock, VirtualClock } from '../../../pipeline/clock.js';
import { chromeTrace } from '../../../pipeline/trace.js';
import { CostModel } from '../../../soc/cost.js';
import { getSocProfile } from '../../../soc/load.js';
import { runSettings, type ThrottleFlags } from '../../../soc/throttles.js';
import { ExperimentStore } from '../../../store/db.js';
import { progressBar } from '../../../core/progress.js';
import { describeSpec, type TechniqueFlags } from '../compress/setting.js';
import { lmQuality } from '../lm-quality.js';
import { requireModelDir, settingFor } from '../open.js';
import { openEdge } from '../edge/open.js';
import { runEdge, runFigures } from '../edge/run.js';
import { CATEGORIES } from '../compress/memory.js';

/** The paper's speed prompt (rwkv-edge.md §6). */
export const PAPER_PROMPT = '\nAlice was so tired when she got back home so she went';

export interface RwkvRunFlags extends ThrottleFlags, TechniqueFlags {
  soc: string;
  model: string;
  prompt?: string;
  tokens?: number;
  stream?: boolean;
  mode: 'virtual' | 'real';
  eval?: boolean;
  limit?: number;
  db?: string;
  trace?: string;
  json?: boolean;
  // BERT's plan flags, refused here.
  config?: string;
  paradigm?: string;
  bufferKb?: number;
  bits?: number;
  task?: string;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;

export async function runRwkvRun(f: RwkvRunFlags): Promise<void> {
  for (const [flag, v] of [
    ['--config', f.config],
    ['--paradigm', f.paradigm],
    ['--buffer-kb', f.bufferKb],
    ['--bits', f.bits],
    ['--task', f.task],
  ] as const)
    if (v !== undefined)
      throw new UserError(`${flag} is for BERT models; an RWKV run takes technique flags (--techniques, --predictor, …) and --stream`);
  requireModelDir(f.model, 'an RWKV run');
  const profile = getSocProfile(f.soc);
  const settings = runSettings(profile, f);
  if (settings.computeUnit === 'gpu') throw new UserError('--unit gpu: RWKV runs on the CPU (its matrix-vector steps are memory-bound)');
  const cost = new CostModel(profile, settings);
  const setting = settingFor(f.model, f);
  if (f.stream && setting.on.length > 0 && !(setting.on.length === 1 && setting.on[0] === 'int8'))
    throw new UserError(`--stream streams the dense model layer by layer; it does not combine with ${setting.on.join(', ')}`);
  const edge = { spec: setting.spec, ...(f.stream && { stream: true }) };
  const model = await openEdge(f.model, edge);
  try {
    const tok = model.lm.tokenizer;
    const promptText = f.prompt ?? PAPER_PROMPT;
    const prompt = [tok.eot, ...tok.encode(promptText)];
    const clock = f.mode === 'real' ? new RealClock() : new VirtualClock();
    const r = await runEdge({ lm: model.lm, store: model.store, setting: edge, cost, clock, prompt, count: f.tokens ?? 200 });
    let quality: Awaited<ReturnType<typeof lmQuality>> | undefined;
    if (f.eval) {
      const db = ExperimentStore.open(f.db);
      const bar = progressBar('lm-eval test', !f.json);
      try {
        quality = await lmQuality(model.lm, db, 'test', f.limit, (d, t) => bar.update(d, t));
      } finally {
        bar.stop();
        db.close();
      }
    }
    const out = {
      family: 'rwkv',
      soc: profile.id,
      mode: f.mode,
      settings,
      techniques: setting.on,
      setting: setting.spec,
      stream: !!f.stream,
      defaults: setting.defaults,
      prompt: promptText,
      promptTokens: prompt.length,
      tokens: r.generated.length,
      text: r.text,
      ...runFigures(r),
      resident: r.resident,
      embCache: r.embCache,
      memoryByCategory: r.memoryByCategory,
      overruns: r.overruns.length,
      ...(quality && {
        split: quality.split,
        perplexity: quality.perplexity,
        nextTokenAccuracy: quality.nextTokenAccuracy,
        lastWordAccuracy: quality.lastWordAccuracy,
        evalTokens: quality.tokens,
      }),
    };
    if (f.trace) writeFileSync(f.trace, JSON.stringify(chromeTrace(r.events, r.memory, { ...out, planner: describeSpec(setting.spec) })));
    if (r.overruns.length > 0)
      console.error(
        `shardlab: warning: this host is slower than the modeled ${profile.id} for ${r.overruns.length} task(s); the real-time timeline runs late there`,
      );
    if (f.json) return console.log(JSON.stringify(out));
    console.log(
      `${f.stream ? 'dense, streamed layer by layer' : describeSpec(setting.spec)} on ${profile.id} (${settings.cores} x ${cost.cluster.id}), ${f.mode} time`,
    );
    console.log(`text        ${JSON.stringify(promptText)} → ${JSON.stringify(r.text)}`);
    console.log(
      `speed       ${r.tokensPerSecond.toFixed(1)} tokens/s; per token p50 ${r.tokenLatencyMsP50.toFixed(2)} ms, p99 ${r.tokenLatencyMsP99.toFixed(2)} ms; first token ${r.firstTokenMs.toFixed(1)} ms (${prompt.length} prompt tokens)`,
    );
    console.log(
      `stall       ${r.stallMs.toFixed(1)} ms of ${(r.makespanUs / 1000).toFixed(1)} ms; read ${(r.ioBytesPerToken / 1024).toFixed(1)} KiB per token`,
    );
    console.log(`memory      persistent ${mib(r.persistentBytes)}, peak ${mib(r.peakBytes)}`);
    const held = CATEGORIES.filter((c) => r.resident.byCategory[c] > 0).map((c) => `${c} ${mib(r.resident.byCategory[c])}`);
    console.log(`  held      ${held.join(', ')}; state ${mib(r.resident.state)}`);
    if (r.embCache)
      console.log(`  emb cache ${r.embCache.hits} hits of ${r.embCache.lookups} lookups (${(100 * r.embCache.hitRate).toFixed(1)} %)`);
    if (quality)
      console.log(
        `quality     perplexity ${quality.perplexity.toFixed(2)}, last word ${(100 * quality.lastWordAccuracy).toFixed(2)} % (${quality.split}, ${quality.tokens} tokens)`,
      );
    for (const d of setting.defaults) console.log(`  default   ${d.flag} ${d.value}: ${d.source}`);
    if (f.trace) console.log(`trace       ${f.trace}`);
  } finally {
    await model.release();
  }
}
