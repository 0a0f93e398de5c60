/** shardlab lm-eval and shardlab generate for RWKV model directories. */
import { progressBar } from '../../../core/progress.js';
import { ExperimentStore } from '../../../store/db.js';
import type { Split } from '../../../eval/splits.js';
import { generate } from '../generate.js';
import { lmQuality } from '../lm-quality.js';
import { describeSpec, type Setting, type TechniqueFlags } from '../compress/setting.js';
import { openRwkvDir, settingFor } from '../open.js';

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

export interface LmEvalFlags extends TechniqueFlags {
  model: string;
  split: Split;
  limit?: number;
  db?: string;
  json?: boolean;
}

/** shardlab lm-eval: perplexity, next-token and last-word accuracy on a split (cached in the store). */
export async function runLmEval(flags: LmEvalFlags): Promise<void> {
  const setting = settingFor(flags.model, flags);
  const model = await openRwkvDir(flags.model, { techniques: setting.spec });
  const db = ExperimentStore.open(flags.db);
  const bar = progressBar(`lm-eval ${flags.split}`, !flags.json);
  try {
    const r = await lmQuality(model, db, flags.split, flags.limit, (d, t) => bar.update(d, t));
    bar.stop();
    const out = { model: flags.model, checksum: model.checksum, ...techniqueKeys(setting, model.sources), ...r };
    if (flags.json) return console.log(JSON.stringify(out));
    console.log(`model        ${flags.model} (RWKV ${model.weights.version}, ${model.weights.layers} layers, width ${model.weights.embd})`);
    console.log(
      `split        ${r.split}: ${r.passages} passages, ${r.tokens} tokens${r.split === flags.split ? '' : ' (a fixed sample, stratified by source)'}`,
    );
    console.log(`perplexity   ${r.perplexity.toFixed(2)}`);
    console.log(`next token   ${(100 * r.nextTokenAccuracy).toFixed(2)} % top-1`);
    console.log(`last word    ${(100 * r.lastWordAccuracy).toFixed(2)} % of ${r.lastWordItems} passages (greedy, every token of the word)`);
    printSetting(setting, model.sources);
    for (const [l, f] of (r.ffn ?? []).entries())
      console.log(
        `  layer ${l}    true sparsity ${pct(f.trueSparsity)}, predicted sparsity ${pct(f.predictedSparsity)}, recall ${pct(f.recall)}`,
      );
    if (r.head)
      console.log(
        `head         ${model.techniques.clusterHead!.clusters} clusters: ${r.head.clustersPerToken.toFixed(1)} per token, ${pct(r.head.rowsTouched)} of the head's rows read`,
      );
    if (r.embCache)
      console.log(
        `emb cache    ${r.embCache.rows} rows ${r.embCache.policy.toUpperCase()}: hit rate ${pct(r.embCache.hitRate)} of ${r.embCache.lookups} lookups (passages read in order)`,
      );
    console.log(r.cached ? 'cached       from the experiment store' : `speed        ${r.tokensPerSecond.toFixed(0)} tokens/s`);
  } finally {
    bar.stop();
    await model.release();
    db.close();
  }
}

/** The setting's keys in JSON output: techniques on, their parameters, defaults used, sources. */
export function techniqueKeys(setting: Setting, sources: Record<string, string>) {
  return { techniques: setting.on, setting: setting.spec, defaults: setting.defaults, sources };
}

/** The setting in words, each default and source on its own line. */
export function printSetting(setting: Setting, sources: Record<string, string>): void {
  console.log(`techniques   ${describeSpec(setting.spec)}`);
  for (const d of setting.defaults) console.log(`  default    ${d.flag} ${d.value}: ${d.source}`);
  for (const [k, v] of Object.entries(sources)) console.log(`  ${k.padEnd(10)} ${v}`);
}

export interface GenerateFlags extends TechniqueFlags {
  model: string;
  prompt: string;
  tokens: number;
  temperature: number;
  topP: number;
  seed?: number;
  json?: boolean;
}

/** shardlab generate: streams the continuation of a prompt as it is produced, then the speed. */
export async function runGenerate(flags: GenerateFlags): Promise<void> {
  const model = await openRwkvDir(flags.model, { techniques: settingFor(flags.model, flags).spec });
  const seed = flags.seed ?? Math.floor(Math.random() * 2 ** 31);
  const decoder = new TextDecoder('utf-8');
  const tok = model.tokenizer;
  const prompt = tok.encode(flags.prompt);
  if (!flags.json) process.stdout.write(flags.prompt);
  try {
    const r = await generate(model.runner, tok.eot, prompt, flags.tokens, { ...flags, seed }, (id) => {
      // Stream bytes through one decoder: a character split across tokens prints once it is whole.
      if (!flags.json) process.stdout.write(decoder.decode(tok.bytes([id]), { stream: true }));
    });
    const tokensPerSecond = (1000 * r.tokens.length) / r.generateMs;
    const text = tok.decode(r.tokens);
    if (flags.json) {
      return console.log(
        JSON.stringify({
          model: flags.model,
          prompt: flags.prompt,
          text,
          tokens: r.tokens,
          seed,
          temperature: flags.temperature,
          topP: flags.topP,
          tokensPerSecond,
          promptTokens: r.promptTokens,
          promptMs: r.promptMs,
        }),
      );
    }
    process.stdout.write(decoder.decode() + '\n');
    console.error(
      `${r.tokens.length} tokens at ${tokensPerSecond.toFixed(1)} tokens/s (prompt: ${r.promptTokens} tokens in ${r.promptMs.toFixed(0)} ms; seed ${seed}, temperature ${flags.temperature}, top-p ${flags.topP})`,
    );
  } finally {
    await model.release();
  }
}
