import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { UserError } from '../engine/core/errors.js';
import { modelChecksum } from '../engine/core/checksum.js';
import { makeBatch } from '../engine/families/bert/batch.js';
import { BertModel } from '../engine/families/bert/model.js';
import { spaceSupplementaryCjk, TextEncoder } from '../engine/families/bert/tokenizer.js';
import { ignoredNote } from '../engine/families/bert/weights.js';
import { openForEval } from '../engine/families/bert/open.js';
import { writeStore } from '../engine/families/bert/shard-store.js';
import { ROOT as REPO, SOTU_MODEL, SPAM_MODEL, tempDir } from './helpers.js';

/** Checkpoints generated in the layouts the Hugging Face hub ships (fixtures/make/hf-layouts.py). */
const ROOT = join(REPO, 'fixtures/models/hf-layouts');

interface Reference {
  max_length: number;
  examples: { text: string; ids: number[]; logits: number[] }[];
}

const layouts = readdirSync(ROOT)
  .filter((d) => d !== 'refused')
  .sort();

describe('Hugging Face layouts load and match their PyTorch logits', () => {
  test('every generated layout is here', () => {
    assert.deepEqual(layouts, [
      'bf16',
      'distilbert',
      'fp16',
      'fp32',
      'gamma-beta',
      'gelu-new',
      'max-length',
      'position-ids',
      'relu',
      'roberta',
      'sharded',
      'silu',
      'vocab-txt',
    ]);
  });
  for (const layout of layouts) {
    test(layout, async (t) => {
      const dir = join(ROOT, layout);
      const ref = JSON.parse(readFileSync(join(dir, 'hf-logits.json'), 'utf8')) as Reference;
      const model = await BertModel.load(dir, { threads: 1 });
      try {
        assert.equal(model.tokenizer.maxLength, ref.max_length);
        const seqs = ref.examples.map((e) => model.tokenizer.encode(e.text));
        ref.examples.forEach((e, i) => assert.deepEqual([...seqs[i]], e.ids, `token ids of ${JSON.stringify(e.text)}`));
        const L = model.config.labels.length;
        const logits = await model.logits(makeBatch(seqs));
        let max = 0;
        ref.examples.forEach((e, i) => e.logits.forEach((v, j) => (max = Math.max(max, Math.abs(v - logits[i * L + j])))));
        assert.ok(max <= 1e-5, `max abs diff ${max}`);
        t.diagnostic(`${layout}: max abs diff ${max.toExponential(2)}`);
        if (layout === 'position-ids') {
          assert.deepEqual(
            model.ignored.map((t) => t.name),
            ['bert.embeddings.position_ids'],
          );
          assert.match(
            ignoredNote(model.ignored),
            /ignored a tensor that is not a weight: bert\.embeddings\.position_ids \(I64 \[1, 40\]\)/,
          );
        } else assert.deepEqual(model.ignored, []);
      } finally {
        await model.release();
      }
    });
  }

  for (const layout of ['sharded', 'vocab-txt', 'position-ids', 'distilbert', 'roberta']) {
    test(`${layout}: its shard store (fp32 shards) gives the same logits`, async () => {
      const dir = join(ROOT, layout);
      const ref = JSON.parse(readFileSync(join(dir, 'hf-logits.json'), 'utf8')) as Reference;
      const store = writeStore(dir, join(tempDir(), 'store'), [4, 32]);
      assert.deepEqual(
        store.ignored.map((t) => t.name),
        layout === 'position-ids' ? ['bert.embeddings.position_ids'] : [],
      );
      const { model, submodel } = await openForEval(store.dir, { threads: 1 });
      try {
        const seqs = ref.examples.map((e) => model.tokenizer.encode(e.text));
        const logits = await model.logitsWith(makeBatch(seqs), submodel(model.config.layers, model.config.slices));
        const L = model.config.labels.length;
        ref.examples.forEach((e, i) => e.logits.forEach((v, j) => assert.ok(Math.abs(v - logits[i * L + j]) <= 1e-5)));
      } finally {
        await model.release();
      }
    });
  }

  test("a sharded checkpoint's checksum covers the index and every shard", () => {
    assert.match(modelChecksum(join(ROOT, 'sharded')), /^[0-9a-f]{16}$/);
    assert.match(modelChecksum(join(ROOT, 'vocab-txt')), /^[0-9a-f]{16}$/);
  });

  test('the bundled fixtures keep the checksums their regression baselines record', () => {
    assert.equal(modelChecksum(SPAM_MODEL), '8c626d68a582279d');
    assert.equal(modelChecksum(SOTU_MODEL), '7a0d0690d2c11386');
  });
});

const REFUSED: [string, RegExp][] = [
  ['encoder-decoder', /config\.json: is_encoder_decoder is true; shardlab runs encoder-only/],
  ['masked-lm', /config\.json: architectures \["BertForMaskedLM"\] is not supported; shardlab runs sequence classifiers/],
  [
    'pytorch-bin',
    /pytorch_model\.bin: PyTorch's pickle format, which shardlab does not read.*save_pretrained\('.*', safe_serialization=True\)/,
  ],
  ['relative-key', /config\.json: position_embedding_type "relative_key" is not supported/],
  ['relative-key-query', /config\.json: position_embedding_type "relative_key_query" is not supported/],
  [
    'tf-h5',
    /tf_model\.h5: TensorFlow's HDF5 format, which shardlab does not read.*from_pretrained\('.*', from_tf=True\).*safe_serialization=True/,
  ],
  ['unknown-activation', /config\.json: hidden_act "quick_gelu" is not supported; shardlab runs gelu, gelu_new/],
];

describe('unsupported Hugging Face layouts are refused by name, in one line', () => {
  test('every refused layout is here', () => {
    assert.deepEqual(readdirSync(join(ROOT, 'refused')).sort(), REFUSED.map(([d]) => d).sort());
  });
  for (const [layout, message] of REFUSED) {
    test(layout, async () => {
      const dir = join(ROOT, 'refused', layout);
      await assert.rejects(BertModel.load(dir, { threads: 1 }), (e: unknown) => {
        assert.ok(e instanceof UserError, String(e));
        assert.match(e.message, message);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    });
  }
});

describe('tokenizer details', () => {
  test('supplementary-plane CJK ideographs are split off as the Rust tokenizer does ("x 𬣤jab" is [UNK] j ##a ##b here)', () => {
    assert.equal(spaceSupplementaryCjk('x \u{2C8E4}jab'), 'x  \u{2C8E4} jab');
    assert.equal(spaceSupplementaryCjk('a\u4e2db \u{1F600}'), 'a\u4e2db \u{1F600}'); // BMP CJK is the library's; emoji are not CJK
    const enc = TextEncoder.fromDir(join(ROOT, 'fp32'), 40);
    const vocab = readFileSync(join(ROOT, 'vocab-txt', 'vocab.txt'), 'utf8')
      .trimEnd()
      .split('\n');
    assert.deepEqual(
      [...enc.encode('x \u{2C8E4}jab')].map((i) => vocab[i]),
      ['[CLS]', 'x', '[UNK]', 'j', '##a', '##b', '[SEP]'],
    );
  });

  test("a vocab.txt tokenizer follows tokenizer_config.json's do_lower_case", () => {
    const cased = TextEncoder.fromDir(join(ROOT, 'vocab-txt'), 40);
    const lowered = TextEncoder.fromDir(join(ROOT, 'fp32'), 40);
    assert.notDeepEqual([...cased.encode('The Movie')], [...lowered.encode('The Movie')]);
  });

  test('model_max_length truncates when below max_position_embeddings, never above it', () => {
    assert.equal(TextEncoder.fromDir(join(ROOT, 'max-length'), 40).maxLength, 12);
    assert.equal(TextEncoder.fromDir(join(ROOT, 'max-length'), 8).maxLength, 8);
  });
});
