import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emailText, eraOf, loadTask, passages, splitOf, SOTU_ERAS } from '../engine/families/bert/datasets.js';

test('splits are a deterministic function of the id, about 80/10/10', () => {
  assert.equal(splitOf('spam-1/00001'), splitOf('spam-1/00001'));
  const counts = { train: 0, dev: 0, test: 0 };
  for (let i = 0; i < 5000; i++) counts[splitOf(`item-${i}`)]++;
  assert.ok(counts.train > 3800 && counts.train < 4200, JSON.stringify(counts));
  assert.ok(counts.dev > 400 && counts.test > 400, JSON.stringify(counts));
});

test('spam: every e-mail is in exactly one split, labels follow the corpus group', () => {
  const all = loadTask('spam').examples;
  assert.equal(all.length, 6046);
  const parts = (['train', 'dev', 'test'] as const).map((s) => loadTask('spam', s).examples);
  assert.equal(
    parts.reduce((n, p) => n + p.length, 0),
    all.length,
  );
  const ids = new Set(parts.flat().map((e) => e.id));
  assert.equal(ids.size, all.length);
  for (const e of all) assert.equal(e.label, e.id.startsWith('spam') ? 1 : 0);
});

test('emailText keeps the subject and body and drops every other header', () => {
  const raw =
    'From: a@b.example\nReceived: from relay.example by mx\nSubject: Cheap\n  pills\nContent-Type: text/html\n\n' +
    '--boundary123\nContent-Type: text/html\n\n<p>Buy&nbsp;now</p>\n';
  const text = emailText(raw);
  assert.equal(text, 'Cheap pills\nBuy now');
});

test('sotu-era: whole speeches fall in one split and eras follow the year boundaries', () => {
  const bySpeech = new Map<string, Set<string>>();
  for (const split of ['train', 'dev', 'test'] as const)
    for (const e of loadTask('sotu-era', split).examples) {
      const speech = e.id.split('#')[0];
      bySpeech.set(speech, (bySpeech.get(speech) ?? new Set()).add(split));
      assert.equal(e.label, eraOf(Number(speech.slice(0, 4))));
    }
  assert.equal(bySpeech.size, 233);
  for (const splits of bySpeech.values()) assert.equal(splits.size, 1);
  assert.equal(eraOf(SOTU_ERAS[1].from - 1), 0);
  assert.equal(eraOf(SOTU_ERAS[1].from), 1);
  assert.equal(eraOf(2021), SOTU_ERAS.length - 1);
});

test('passages are whole sentences of at least 60 words, none lost', () => {
  const text = Array.from({ length: 40 }, (_, i) => `Sentence number ${i} has exactly seven words.`).join(' ');
  const out = passages(text);
  assert.equal(out.join(' '), text);
  for (const p of out) assert.ok(p.split(' ').length >= 30);
  for (const p of out.slice(0, -1)) assert.ok(p.split(' ').length >= 60);
});
