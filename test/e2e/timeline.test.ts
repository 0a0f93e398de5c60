/**
 * The Pipeline timelines in Debian's Chromium against browser mode: round ticks, layer labels, a memory
 * lane, merged stalls, Perfetto's keys (W/S zoom, A/D pan, 0 resets), a shift-drag measurement, a target
 * label inside the drawing; and settings that survive a restart of `npm start` on its stable port.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type BrowserContext, type Locator, type Page } from 'playwright-core';
import { tempDir } from '../helpers.js';
import { launchBrowser, shot, startServer, type Server } from './harness.js';

const launch = (profile: string) => launchBrowser({ profile });

/**
 * The timelines need plans only: no background accuracy, and a planner without an importance profile (What-if's
 * first plan would otherwise start a profile job), so no job process runs beside the page. Set on a fresh
 * profile only, as the page keeps its own settings.
 */
const QUIET_QUERY = () =>
  localStorage.getItem('shardlab-query') ||
  localStorage.setItem('shardlab-query', JSON.stringify({ evalLimit: 20, autoAccuracy: false, planner: 'sti-uniform' }));

/** Tick values in ms, from their labels. */
async function ticks(tl: Locator): Promise<number[]> {
  return (await tl.locator('.tick-label').allTextContents()).map((t) => Number(t.replace(/ ms$/, '')));
}

/** 1, 2 or 5 times a power of ten. */
function round(step: number): boolean {
  const m = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
  return [1, 2, 5].some((r) => Math.abs(m - r) < 1e-6);
}

describe('timeline', () => {
  let server: Server;
  let context: BrowserContext;
  let page: Page;

  before(
    async () => {
      server = await startServer();
      context = await launch(tempDir('shardlab-chromium-'));
      await context.addInitScript(QUIET_QUERY);
      page = await context.newPage();
      await page.goto(server.openUrl);
      // The first plan (What-if) is on screen: the app is up.
      await page.getByTestId('predicted-ms').waitFor({ timeout: 90_000 });
      await page.locator('body').click({ position: { x: 5, y: 790 } });
      await page.keyboard.press('3');
      await page.getByTestId('view-pipeline').waitFor();
      await page.locator('#pb').selectOption('stdpl-32');
    },
    { timeout: 180_000 },
  );
  after(async () => {
    await context?.close();
    await server?.stop();
  });

  test('round ticks, layer labels, a memory lane and one span per stretch of waiting', { timeout: 120_000 }, async () => {
    const tl = page.getByTestId('timeline-b');
    await tl.locator('strong', { hasText: /^stdpl-32:/ }).waitFor();
    const values = await ticks(tl);
    assert.ok(values.length >= 3, `ticks: ${values}`);
    const step = values[1] - values[0];
    assert.ok(round(step), `tick step ${step} ms is not 1, 2 or 5 x 10^k (${values})`);
    for (const v of values) assert.ok(Math.abs(v / step - Math.round(v / step)) < 1e-6, `tick ${v} is not a multiple of ${step}`);

    const labels = await tl.locator('.layer-label').allTextContents();
    assert.ok(labels.length >= 3, `layer labels: ${labels}`);
    for (const l of labels) assert.match(l, /^L\d+$/);
    assert.ok(labels.includes('L0'), 'layer 0 labelled');

    assert.equal(await page.getByTestId('memory-lane-b').count(), 1);
    assert.match(await page.getByTestId('memory-peak-b').innerText(), /memory peak [\d.]+ (KB|MB)/);
    assert.ok((await tl.locator('path.memory-line').getAttribute('d'))!.split('L').length > 4, 'the memory curve has steps');

    // Merged waits: the pill counts the spans drawn, and no two drawn spans touch.
    const stall = await page.getByTestId('stall-b').innerText();
    const spans = await tl
      .locator('rect[data-stage="stall"]')
      .evaluateAll((rs) =>
        rs.map((r) => ({ x: Number(r.getAttribute('x')), w: Number(r.getAttribute('width')) })).sort((a, b) => a.x - b.x),
      );
    assert.ok(spans.length > 0, 'stdpl-32 stalls on odroid-n2plus');
    assert.match(stall, new RegExp(` in ${spans.length} waits?$`));
    for (let i = 1; i < spans.length; i++)
      assert.ok(spans[i].x > spans[i - 1].x + spans[i - 1].w + 0.25, `stall spans ${i - 1} and ${i} touch`);

    const svg = await tl.locator('svg').boundingBox();
    const label = await page.getByTestId('target-label-b').boundingBox();
    assert.ok(label && svg && label.x + label.width <= svg.x + svg.width && label.y >= svg.y, 'the target label lies inside the drawing');
    await shot(page, 'timeline', 'pipeline');
  });

  test('W/S zoom, A/D pan and 0 resets the visible window', { timeout: 60_000 }, async () => {
    const tl = page.getByTestId('timeline-b');
    await tl.locator('svg').click({ position: { x: 400, y: 30 } });
    const full = await ticks(tl);
    for (let i = 0; i < 4; i++) await page.keyboard.press('w');
    const zoomed = await ticks(tl);
    assert.ok(zoomed.at(-1)! - zoomed[0] < (full.at(-1)! - full[0]) / 2, `zoomed in: ${full} -> ${zoomed}`);
    await page.keyboard.press('d');
    const panned = await ticks(tl);
    assert.ok(panned[0] > zoomed[0], `panned right: ${zoomed} -> ${panned}`);
    await page.keyboard.press('a');
    await page.keyboard.press('a');
    assert.ok((await ticks(tl))[0] < panned[0], 'panned left');
    await page.keyboard.press('s');
    assert.ok((await ticks(tl)).at(-1)! - (await ticks(tl))[0] > zoomed.at(-1)! - zoomed[0], 'zoomed out');
    await page.keyboard.press('0');
    assert.deepEqual(await ticks(tl), full);
    // Both timelines share the window.
    assert.deepEqual(await ticks(page.getByTestId('timeline-a')), full);
  });

  test('shift-drag measures a range and shows its duration', { timeout: 60_000 }, async () => {
    const tl = page.getByTestId('timeline-b');
    // Pixels to ms from two tick lines.
    const lines = await tl.locator('line.tick').evaluateAll((ls) => ls.map((l) => Number(l.getAttribute('x1'))));
    const values = await ticks(tl);
    const msPerPx = (values[2] - values[1]) / (lines[2] - lines[1]);
    const box = (await tl.locator('svg').boundingBox())!;
    const [from, to] = [lines[1] + 10, lines[1] + 210];
    await page.keyboard.down('Shift');
    await page.mouse.move(box.x + from, box.y + 30);
    await page.mouse.down();
    await page.mouse.move(box.x + (from + to) / 2, box.y + 30);
    await page.mouse.move(box.x + to, box.y + 30);
    await page.mouse.up();
    await page.keyboard.up('Shift');
    const text = await page.getByTestId('measure-b').innerText();
    const measured = Number(/measured ([\d.]+) ms/.exec(text)![1]);
    const expected = (to - from) * msPerPx;
    assert.ok(Math.abs(measured - expected) <= expected * 0.02, `measured ${measured} ms, the drag spans ${expected.toFixed(2)} ms`);
    assert.equal(await tl.locator('rect.measure-range').count(), 1);
    await shot(page, 'timeline', 'measure');
    await page.keyboard.press('Escape');
    assert.equal(await page.getByTestId('measure-b').count(), 0);
  });
});

/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('settings survive a restart on the same port', { timeout: 120_000 }, async () => {
  const port = await freePort();
  const home = tempDir('shardlab-e2e-');
  const profile = tempDir('shardlab-chromium-');
  const theme = async (p: Page) => p.evaluate(() => document.documentElement.dataset.theme);
  let server = await startServer(home, port);
  let context = await launch(profile);
  await context.addInitScript(QUIET_QUERY);
  let page = await context.newPage();
  await page.goto(server.openUrl);
  await page.locator('body').click({ position: { x: 5, y: 790 } });
  const before = await theme(page);
  await page.keyboard.press('t');
  const toggled = await theme(page);
  assert.notEqual(toggled, before);
  await context.close();
  await server.stop();

  server = await startServer(home, port);
  try {
    assert.ok(server.url.includes(`:${port}/`), server.url);
    context = await launch(profile);
    await context.addInitScript(QUIET_QUERY);
    page = await context.newPage();
    await page.goto(server.openUrl);
    await page.locator('body').waitFor();
    assert.equal(await theme(page), toggled);
  } finally {
    await context.close();
    await server.stop();
  }
});
