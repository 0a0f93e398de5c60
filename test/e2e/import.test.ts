/**
 * Setup's "Import a model" in Debian's Chromium against browser mode: a Hugging Face checkpoint directory typed
 * into the path field is imported (family, labels and the ignored position_ids buffer shown), selected, and
 * What-if plans it; accuracy waits for a data file, then is measured on one from "Your own data"; a refused
 * layout says why in one line.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type BrowserContext, type Page } from 'playwright-core';
import { ROOT, tempDir } from '../helpers.js';
import { launchBrowser, shot, startServer, type Server } from './harness.js';

const LAYOUTS = join(ROOT, 'fixtures/models/hf-layouts');

describe('importing a model in the workbench (browser mode)', () => {
  let server: Server;
  let context: BrowserContext;
  let page: Page;

  before(
    async () => {
      server = await startServer();
      context = await launchBrowser({ profile: tempDir('shardlab-chromium-') });
      await context.addInitScript(
        () => localStorage.getItem('shardlab-query') || localStorage.setItem('shardlab-query', JSON.stringify({ evalLimit: 20 })),
      );
      page = await context.newPage();
      await page.goto(server.openUrl);
      await page.getByTestId('predicted-ms').waitFor({ timeout: 90_000 });
    },
    { timeout: 180_000 },
  );
  after(async () => {
    await context?.close();
    await server?.stop();
  });

  const view = async (key: string, id: string) => {
    await page.locator('body').click({ position: { x: 5, y: 790 } });
    await page.keyboard.press(key);
    await page.getByTestId(`view-${id}`).waitFor();
  };

  test('a refused layout says why, in one line', { timeout: 60_000 }, async () => {
    await view('1', 'setup');
    await page.getByTestId('import-model-dir').fill(join(LAYOUTS, 'refused/relative-key'));
    await page.getByTestId('import-model-go').click();
    const error = page.getByTestId('import-model-error');
    await error.waitFor();
    const text = await error.innerText();
    assert.match(text, /position_embedding_type "relative_key" is not supported/);
    assert.doesNotMatch(text, /\n/);
  });

  test('position-ids is imported: family, labels and the ignored tensor shown; What-if plans it', { timeout: 90_000 }, async () => {
    await view('1', 'setup');
    await page.getByTestId('import-model-dir').fill(join(LAYOUTS, 'position-ids'));
    await page.getByTestId('import-model-go').click();
    const result = page.getByTestId('import-model-result');
    await result.waitFor({ timeout: 60_000 });
    assert.match(await page.getByTestId('import-model-family').innerText(), /bert \(BERT\)/);
    assert.equal(await page.getByTestId('import-model-labels').innerText(), 'negative, positive, spam');
    assert.match(await page.getByTestId('import-model-ignored').innerText(), /bert\.embeddings\.position_ids \(I64 \[1, 40\]\)/);
    const found = await result.innerText();
    assert.match(found, /imported-position-ids-[0-9a-f]{8}/);
    assert.match(found, /2 layers, 4 heads, hidden 32, FFN 64/);
    assert.match(found, /tokenizer\.json, at most 40 tokens/);
    await page.locator('header', { hasText: /imported-position-ids-/ }).waitFor();
    await shot(page, 'browser', 'setup-import-model');
    await view('2', 'whatif');
    await page.getByTestId('predicted-ms').waitFor({ timeout: 60_000 });
    assert.ok(Number(/[\d.]+/.exec(await page.getByTestId('predicted-ms').innerText())?.[0]) > 0);
    assert.match(await page.getByTestId('accuracy-needs-data').innerText(), /needs a data file/);
    await view('4', 'buffer');
    assert.match(await page.getByTestId('importance-needs-data').innerText(), /needs a labelled data file of yours/);
  });

  test('with a data file of its labels, What-if measures its accuracy', { timeout: 120_000 }, async () => {
    const file = join(tempDir('shardlab-import-data-'), 'mine.csv');
    const rows = ['good film,positive', 'bad film,negative', 'buy pills now,spam', 'what a great day,positive', 'awful service,negative'];
    writeFileSync(file, ['text,label,split', ...[...rows, ...rows.map((r) => `really ${r}`)].map((r) => `${r},dev`)].join('\n') + '\n');
    await view('1', 'setup');
    await page.getByTestId('own-data-path').fill(file);
    await page.getByTestId('own-data-check').click();
    await page.getByTestId('own-data-use').click();
    await view('2', 'whatif');
    await page.getByTestId('accuracy').filter({ hasText: /%/ }).waitFor({ timeout: 90_000 });
    assert.equal(await page.getByTestId('accuracy-needs-data').count(), 0);
    await shot(page, 'browser', 'whatif-imported-model');
  });
});
