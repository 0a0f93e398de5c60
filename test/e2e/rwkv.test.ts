/**
 * The workbench's RWKV views end to end, in Debian's Chromium against browser mode on a fresh data
 * directory: Setup picks the RWKV family and rwkv5-en; What-if's sliders and toggles move the prediction
 * and quality is measured on demand; Pipeline zooms to one token; Buffer stacks what is resident; Tradeoffs
 * draws the grid with its baselines; Live streams a real generation with its timeline; Experiments lists the
 * run and the recorded plan. A screenshot of each lands in test-results/screenshots/rwkv-*.png.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type BrowserContext, type Page } from 'playwright-core';
import { launchBrowser, shot, startServer, type Server } from './harness.js';

const SUITE = 'rwkv';

describe('workbench with the RWKV fixture (Debian Chromium, browser mode)', () => {
  let server: Server;
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    server = await startServer();
    context = await launchBrowser({ viewport: { width: 1280, height: 900 } });
    // The page boots on BERT's What-if, which this suite only passes through: no background accuracy and a planner
    // without an importance profile, so no BERT job (a worker process each) competes with the RWKV ones for the
    // host's slots. The BERT suites test those jobs.
    await context.addInitScript(
      () =>
        localStorage.getItem('shardlab-query') ||
        localStorage.setItem('shardlab-query', JSON.stringify({ evalLimit: 20, autoAccuracy: false, planner: 'sti-uniform' })),
    );
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.openUrl);
  });
  after(async () => {
    await context?.close();
    await server?.stop();
  });

  const view = async (key: string, id: string) => {
    await page.keyboard.press('Escape');
    await page.locator('body').click({ position: { x: 5, y: 890 } });
    await page.keyboard.press(key);
    await page.getByTestId(`view-${id}`).waitFor();
  };
  const text = (id: string) => page.getByTestId(id).innerText();

  test('Setup: the RWKV family and rwkv5-en are offered and picked', { timeout: 120_000 }, async () => {
    await page.getByTestId('predicted-ms').waitFor({ timeout: 80_000 }); // BERT's What-if, as ever, first
    await view('1', 'setup');
    const families = await page.locator('#family option').allInnerTexts();
    assert.ok(
      families.some((f) => /RWKV/.test(f)),
      families.join(),
    );
    await page.locator('#family').selectOption('rwkv');
    assert.equal(await page.locator('#model').inputValue(), 'rwkv5-en');
    const models = await page.locator('#model option').allInnerTexts();
    assert.deepEqual(
      models.map((m) => m.split(' ')[0]),
      ['rwkv5-en'],
      'the trained low-rank siblings are what low-rank runs, not models of their own',
    );
    await page.getByTestId('rwkv-setup-note').waitFor();
    // Quick quality: 8 test passages (seconds per setting), so the measurement below stays short.
    await page.getByTestId('rwkv-quality-limit').selectOption('8');
    assert.match(await page.locator('header').innerText(), /rwkv5-en · english-lm/);
    await shot(page, SUITE, 'setup');
  });

  test('What-if: sliders, toggles and on-demand quality move the numbers', { timeout: 120_000 }, async () => {
    await view('2', 'whatif');
    await page.getByTestId('rwkv-tps').waitFor();
    const settled = () => page.waitForSelector('[data-testid="plan-current"][data-current="yes"]');
    await settled();
    const allPeak = await text('rwkv-peak');
    // Turning INT8 on shrinks the resident weights.
    await page.locator('input[data-technique="int8"]').check();
    await page.waitForFunction((before) => document.querySelector('[data-testid="rwkv-peak"]')!.textContent !== before, allPeak);
    await settled();
    assert.ok(parseFloat(await text('rwkv-peak')) < parseFloat(allPeak));
    await page.locator('input[data-technique="int8"]').uncheck();
    await page.waitForFunction((before) => document.querySelector('[data-testid="rwkv-peak"]')!.textContent === before, allPeak);
    // A budget below the peak: the setting no longer fits, said in words.
    const slider = page.getByTestId('rwkv-memory-slider');
    await slider.focus();
    await slider.fill('2');
    await page.waitForFunction(() => /exceeds 2 MiB/.test(document.querySelector('[data-testid="rwkv-fits"]')!.textContent!));
    await slider.fill('8');
    await page.waitForFunction(() => /fits 8 MiB/.test(document.querySelector('[data-testid="rwkv-fits"]')!.textContent!));
    // How long the slider's answer took to reach the screen is said, as for BERT.
    assert.ok(Number(await text('update-ms')) > 0);
    // A latency target: met or missed, in words.
    await page.getByTestId('rwkv-latency-slider').fill('1');
    await page.waitForFunction(() => /misses 1 ms|meets 1 ms/.test(document.querySelector('[data-testid="rwkv-metrics"]')!.textContent!));
    // Quality is measured on demand, as a job with progress, then read from the store.
    assert.equal(await text('rwkv-quality'), '—');
    await page.getByTestId('rwkv-measure').click();
    await page.waitForFunction(() => /perplexity \d/.test(document.querySelector('[data-testid="rwkv-quality"]')!.textContent!));
    // The planner's grid is read in the background; with no grid point measured yet it says why it has no pick.
    await page.waitForFunction(() =>
      /No pick: no setting has a measured quality yet/.test(document.querySelector('[data-testid="rwkv-plan-why"]')?.textContent ?? ''),
    );
    await page.getByTestId('rwkv-record').click();
    await page
      .getByTestId('toast')
      .filter({ hasText: /Recorded as experiment #\d+/ })
      .waitFor();
    await shot(page, SUITE, 'whatif');
  });

  test('Pipeline: the per-token timeline with its stalls, zoomed to one token', { timeout: 120_000 }, async () => {
    await view('3', 'pipeline');
    const tl = page.getByTestId('timeline-rwkv');
    await tl.waitFor();
    assert.ok((await tl.locator('rect[data-stage="io"]').count()) > 0);
    assert.ok((await tl.locator('rect[data-stage="compute"]').count()) > 0);
    assert.match(await page.getByTestId('stall-rwkv').innerText(), /stall/);
    const all = await tl.locator('rect[data-stage="compute"]').count();
    // The steady-state token (the last placed): one token's window draws fewer compute bars than all of them.
    await page.getByTestId('token-zoom').locator('button').last().click();
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="timeline-rwkv"] rect[data-stage="compute"]').length < n,
      all,
    );
    await shot(page, SUITE, 'pipeline');
  });

  test('Buffer: resident bytes stacked by category, the transient peak and the cache', { timeout: 120_000 }, async () => {
    await view('4', 'buffer');
    await page.getByTestId('rwkv-resident-chart').locator('.recharts-bar-rectangle').first().waitFor();
    const table = await text('rwkv-resident-table');
    assert.match(table, /attention/);
    assert.match(table, /transient peak/);
    assert.match(await text('rwkv-cache'), /1000 rows, FIFO/);
    await shot(page, SUITE, 'buffer');
  });

  test('Tradeoffs: quality and tokens/s against memory, with the baselines', { timeout: 120_000 }, async () => {
    await view('5', 'tradeoffs');
    await page.getByTestId('rwkv-grid-table').waitFor();
    const rows = await page.getByTestId('rwkv-grid-table').locator('tbody tr').allInnerTexts();
    assert.ok(rows.some((r) => /dense-fp16/.test(r)) && rows.some((r) => /all-int8/.test(r)));
    await page.getByTestId('rwkv-speed-chart').locator('.recharts-scatter-symbol').first().waitFor();
    // What-if measured the paper's combination: its point is on the quality chart.
    await page.getByTestId('rwkv-quality-chart').locator('.recharts-scatter-symbol').first().waitFor();
    assert.match(await text('rwkv-grid-count'), /quality stored for [1-9]/);
    await shot(page, SUITE, 'tradeoffs');
  });

  test('Live: a generation streams its text token by token with the timeline under it', { timeout: 120_000 }, async () => {
    await view('7', 'live');
    // 12 tokens in slow motion: enough to see the text grow while it runs (the page redraws the timeline at every batch).
    await page.getByTestId('rwkv-tokens').fill('12');
    await page.locator('#rwkv-slowdown').selectOption('10');
    await page.getByTestId('run-live').click();
    const generated = () => page.evaluate(() => document.querySelector('[data-testid="rwkv-text"] b')?.textContent?.length ?? 0);
    await page.waitForFunction(() => /running: [1-9]\d* tokens/.test(document.querySelector('[data-testid="live-status"]')!.textContent!));
    const early = await generated();
    const earlyEvents = await page.getByTestId('timeline-live').locator('rect[data-stage]').count();
    assert.ok(earlyEvents > 0, 'timeline events while it runs');
    await page.waitForFunction((n) => (document.querySelector('[data-testid="rwkv-text"] b')?.textContent?.length ?? 0) > n, early);
    await shot(page, SUITE, 'live-streaming');
    await page.getByTestId('live-result').waitFor();
    assert.match(await text('live-status'), /^done: 12 tokens/);
    assert.ok((await generated()) > early);
    await shot(page, SUITE, 'live');
  });

  test('Experiments: the live run and the recorded plan are listed with their numbers', { timeout: 120_000 }, async () => {
    await view('6', 'experiments');
    const table = page.getByTestId('rwkv-runs');
    await table.waitFor();
    assert.equal(await table.locator('tr[data-kind="live"]').count(), 1);
    assert.equal(await table.locator('tr[data-kind="plan"]').count(), 1);
    await table.locator('tr[data-kind="live"]').click();
    await page.getByTestId('rwkv-run-detail').waitFor();
    await shot(page, SUITE, 'experiments');
    // Back on Buffer, the live run's cache: its hit rate and rows.
    await view('4', 'buffer');
    assert.match(await text('rwkv-cache-live'), /hits of \d+ lookups/);
    await shot(page, SUITE, 'buffer-cache');
    assert.deepEqual(errors, []);
  });
});
