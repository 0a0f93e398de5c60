/**
 * STI's stage 2 on one submodel (n layers × m slices): the preload, pass 1 (the uniform base bitwidth) and
 * pass 2 (upgrades in importance order), and sti-plus's revisit of preloaded shards; sti.ts states the
 * rules. A shard's state is its rung (an index into ShardCosts.rungs, highest bitwidth first) and whether it
 * is preloaded, kept in typed arrays indexed layer · m + slice and reused from one candidate submodel to the
 * next. Every sum runs in the order the rules state it (layer-major, slice order), so the decisions at the
 * budgets' edges do not depend on the representation.
 *
 * Pass 1 is where the candidates that do not fit spend their time, and most of it repeats: with m slices
 * and base rung r, layer k's preloads and charge do not depend on how many layers follow it, only its
 * deadline does (slack_k = T − (n − k)·T_layer − Σ_{j≤k} charge_j). So each (m, r) keeps the prefix sums it
 * has computed, and a candidate's check is the comparison of those sums with its deadlines.
 */
import type { ShardCosts } from './shard-costs.js';

export interface StiOptions {
  /** Upgrade streamed shards in importance order (pass 2). Off for the sti-uniform ablation. */
  upgrade: boolean;
  /**
   * sti-plus: after pass 2, preloaded shards may move up too (re-preloaded at a higher rung, or streamed at
   * a higher rung where the budget has slack), and the buffer room that frees goes to streamed shards of
   * the earliest layers, whose saved IO funds another pass 2.
   */
  revisitPreload?: boolean;
  /**
   * Preload all of layer 0 first (STI's rule: with no slack, layer 0 has no IO budget). When false, layer 0
   * is treated like the other layers: spare-room preloading at the base bitwidth, earliest layers first.
   */
  layer0First?: boolean;
}

/**
 * A planned submodel: every shard's rung and preload flag (index layer · m + slice). They are views into
 * the planner's arrays, valid until it plans again or is released.
 */
export interface SubmodelPlan {
  n: number;
  m: number;
  rung: Int8Array;
  preload: Uint8Array;
  /** Where each shard's rungs start in the cost tables (ShardCosts.row). */
  rows: Int32Array;
}

const EPS = 1e-9;

/**
 * The typed arrays a planner works in, kept from one request to the next: allocating them (each backed
 * outside the JavaScript heap) was a good part of a request's time and of its garbage. Pass 1's prefix sums
 * of one (m, base rung) live at key = m · rungs + rung: sums and room left after each layer at key · layers,
 * the shards the spare room preloads (index layer · m + slice) at key · layers · slices.
 */
class Scratch {
  inUse = false;
  readonly rung: Int8Array;
  readonly preload: Uint8Array;
  readonly rows: Int32Array;
  readonly order: Int32Array;
  readonly slack: Float64Array;
  readonly least: Float64Array;
  /** Layers whose prefix sums are known, per key. */
  readonly known: Int32Array;
  readonly sums: Float64Array;
  readonly leftAfter: Float64Array;
  readonly trial: Uint8Array;
  /** Layer 0's preload per slice count m: known, its rung, its shard count and the room it leaves. */
  readonly layer0Known: Uint8Array;
  readonly layer0Rung: Int32Array;
  readonly layer0Count: Int32Array;
  readonly layer0Room: Float64Array;

  constructor(
    readonly layers: number,
    readonly slices: number,
    readonly rungs: number,
  ) {
    const shards = layers * slices;
    const keys = (slices + 1) * rungs;
    this.rung = new Int8Array(shards);
    this.preload = new Uint8Array(shards);
    this.rows = new Int32Array(shards);
    this.order = new Int32Array(shards);
    this.slack = new Float64Array(layers);
    this.least = new Float64Array(layers);
    this.known = new Int32Array(keys);
    this.sums = new Float64Array(keys * layers);
    this.leftAfter = new Float64Array(keys * layers);
    this.trial = new Uint8Array(keys * shards);
    this.layer0Known = new Uint8Array(slices + 1);
    this.layer0Rung = new Int32Array(slices + 1);
    this.layer0Count = new Int32Array(slices + 1);
    this.layer0Room = new Float64Array(slices + 1);
  }

  /** Forgets the last request's prefix sums and layer-0 preloads. */
  reset(): void {
    this.known.fill(0);
    this.layer0Known.fill(0);
  }
}

/** Scratch arrays not in use, by grid (a request's model and sti-plus's submodel of it, for a few models). */
const spare: Scratch[] = [];
const SPARE_KEPT = 8;

function acquire(layers: number, slices: number, rungs: number): Scratch {
  const at = spare.findIndex((x) => x.layers === layers && x.slices === slices && x.rungs === rungs);
  const s = at >= 0 ? spare.splice(at, 1)[0] : new Scratch(layers, slices, rungs);
  s.inUse = true;
  s.reset();
  return s;
}

export class SubmodelPlanner {
  private readonly s: Scratch;
  /** Quantized rungs, highest bitwidth first. */
  private readonly quantized: number[];
  private n = 0;
  private m = 0;
  private tLayer = 0;
  /** Buffer room left after pass 1. */
  private left = 0;

  constructor(
    private readonly costs: ShardCosts,
    private readonly targetMs: number,
    private readonly bufferBytes: number,
    private readonly o: StiOptions,
  ) {
    this.s = acquire(costs.layers, costs.slices, costs.rungs.length);
    this.quantized = costs.rungs.flatMap((b, r) => (b === 32 ? [] : [r]));
  }

  /** Hands the scratch arrays on to the next request (the plans returned are no longer valid). */
  release(): void {
    if (!this.s.inUse) return;
    this.s.inUse = false;
    spare.unshift(this.s);
    if (spare.length > SPARE_KEPT) spare.pop();
  }

  /** Plans one submodel; undefined when no uniform base bitwidth keeps every budget (2-bit streaming stalls). */
  plan(n: number, m: number, tLayer: number): SubmodelPlan | undefined {
    if (this.quantized.length === 0) return undefined;
    this.n = n;
    this.m = m;
    this.tLayer = tLayer;
    const { rung, preload } = this.s;
    const lowest = this.quantized[this.quantized.length - 1];
    rung.fill(lowest, 0, n * m);
    preload.fill(0, 0, n * m);
    const room = this.preloadLayer0(lowest);
    // Pass 1: the highest uniform base bitwidth that keeps every AIB >= 0, spare room holding early shards.
    const base = this.quantized.find((r) => this.keepsBudgets(r, room));
    if (base === undefined) return undefined;
    const key = this.key(base);
    const trial = key * this.costs.layers * this.costs.slices;
    this.left = this.s.leftAfter[key * this.costs.layers + n - 1];
    for (let i = 0; i < n * m; i++) {
      if (!preload[i]) rung[i] = base;
      preload[i] = this.s.trial[trial + i];
    }
    for (let l = 0, i = 0; l < n; l++) for (let s = 0; s < m; s++, i++) this.s.rows[i] = this.costs.row(l, s);
    const order = this.byImportance();
    if (this.o.upgrade) this.upgradeStreamed(order, this.slack(this.s.sums.subarray(key * this.costs.layers)));
    if (this.o.revisitPreload) this.revisitPreload(order, this.left);
    return { n, m, rung: rung.subarray(0, n * m), preload: preload.subarray(0, n * m), rows: this.s.rows.subarray(0, n * m) };
  }

  /** Shard i's charge at a rung (pass 2 on: its row is known). */
  private charge(i: number, rung = this.s.rung[i], preload = this.s.preload[i] === 1): number {
    return (preload ? this.costs.preloadedAt : this.costs.streamedAt)[this.s.rows[i] + rung];
  }

  private bytes(i: number, rung = this.s.rung[i]): number {
    return this.costs.bytesAt[this.s.rows[i] + rung];
  }

  /** AIB slack of layer k, the charges of layers <= k summing to `sum`. */
  private slackAt(k: number, sum: number): number {
    return this.targetMs - (this.n - k) * this.tLayer - sum;
  }

  /**
   * Every layer's AIB slack in the current state, and the least slack from each layer on. Right after pass
   * 1 the charges of layers <= l summed are its prefix sums (`sums`: the same sums in the same order).
   */
  private slack(sums?: Float64Array): Slack {
    const slack = this.s.slack.subarray(0, this.n);
    let sum = 0;
    for (let l = 0, i = 0; l < this.n; l++) {
      if (sums) sum = sums[l];
      else {
        let io = 0;
        for (let s = 0; s < this.m; s++, i++) io += this.charge(i);
        sum += io;
      }
      slack[l] = this.slackAt(l, sum);
    }
    return new Slack(slack, this.s.least);
  }

  /** The submodel's shards (layer · m + slice), most important first. */
  private byImportance(): Int32Array {
    const { layers, slices, order } = this.costs;
    if (this.n === layers && this.m === slices) return order; // the whole grid: indices are the same
    const out = this.s.order;
    let k = 0;
    for (let j = 0; j < order.length; j++) {
      const g = order[j];
      const l = Math.floor(g / slices);
      const s = g - l * slices;
      if (l < this.n && s < this.m) out[k++] = l * this.m + s;
    }
    return out.subarray(0, k);
  }

  /**
   * Layer 0 whole at the highest bitwidth whose total fits the buffer (as many shards as fit, when none
   * does), into the plan's first shards; returns the room left.
   */
  private preloadLayer0(lowest: number): number {
    const { costs, m, s } = this;
    if (!s.layer0Known[m]) {
      let room = this.bufferBytes;
      let count = 0;
      let r0 = lowest;
      if (this.o.layer0First !== false) {
        r0 = costs.rungs.findIndex((_, r) => costs.layerBytes(0, m, r) <= room);
        if (r0 < 0) r0 = lowest;
        for (; count < m && costs.bytes(0, count, r0) <= room; count++) room -= costs.bytes(0, count, r0);
      }
      s.layer0Known[m] = 1;
      s.layer0Rung[m] = r0;
      s.layer0Count[m] = count;
      s.layer0Room[m] = room;
    }
    s.rung.fill(s.layer0Rung[m], 0, s.layer0Count[m]);
    s.preload.fill(1, 0, s.layer0Count[m]);
    return s.layer0Room[m];
  }

  /** Where the prefix sums of (m, base rung r) are (see Scratch). */
  private key(r: number): number {
    return this.m * this.costs.rungs.length + r;
  }

  /** Whether base rung r keeps every AIB of the current submodel, from the prefix sums of (m, r). */
  private keepsBudgets(r: number, room: number): boolean {
    const key = this.key(r);
    const { known, sums, leftAfter } = this.s;
    const at = key * this.costs.layers;
    for (let k = 0; k < this.n; k++) {
      if (k === known[key]) {
        const charge = this.layerCharge(k, r, key, k === 0 ? room : leftAfter[at + k - 1]);
        sums[at + k] = (k === 0 ? 0 : sums[at + k - 1]) + charge;
        known[key]++;
      }
      if (!(this.slackAt(k, sums[at + k]) >= -EPS)) return false;
    }
    return true;
  }

  /**
   * Layer l at base rung r: the spare room (`left`, while any is left) preloads its shards not yet
   * preloaded, most important first, into the trial flags of `key`; returns the layer's charge against the
   * AIB and keeps the room left.
   */
  private layerCharge(l: number, r: number, key: number, left: number): number {
    const { m, costs } = this;
    const { preload, trial, rung } = this.s;
    const at = l * m;
    const t = key * costs.layers * costs.slices + at;
    if (l > 0 && (!(left > 0) || left < costs.leastBytes(l, m, r))) {
      // No room for any of the layer's shards (and after layer 0 none is preloaded yet): all stream at r.
      trial.fill(0, t, t + m);
      this.s.leftAfter[key * costs.layers + l] = left;
      return costs.layerStreamed(l, m, r);
    }
    const order = costs.layerOrder;
    for (let s = 0; s < m; s++) trial[t + s] = preload[at + s];
    if (left > 0)
      for (let k = l * costs.slices; k < (l + 1) * costs.slices; k++) {
        const s = order[k];
        if (s >= m || trial[t + s]) continue;
        const b = costs.bytes(l, s, r);
        if (b <= left) {
          trial[t + s] = 1;
          left -= b;
        }
      }
    this.s.leftAfter[key * costs.layers + l] = left;
    let io = 0;
    for (let s = 0; s < m; s++) io += preload[at + s] ? costs.charge(l, s, rung[at + s], true) : costs.charge(l, s, r, trial[t + s] === 1);
    return io;
  }

  /** Pass 2: in importance order, each streamed shard jumps to the highest rung every budget allows. */
  private upgradeStreamed(order: Int32Array, slack = this.slack()): void {
    const { rungs, streamedAt } = this.costs;
    const { rung, preload, rows } = this.s;
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      if (preload[i]) continue;
      const l = Math.floor(i / this.m);
      const headroom = slack.headroom(l);
      const row = rows[i];
      const current = streamedAt[row + rung[i]];
      const bits = rungs[rung[i]];
      for (let r = 0; r < rungs.length && rungs[r] > bits; r++) {
        const delta = streamedAt[row + r] - current;
        if (delta <= headroom + EPS) {
          rung[i] = r;
          slack.spend(l, delta);
          break;
        }
      }
    }
  }

  /**
   * sti-plus: preloaded shards move up (re-preloaded at a higher rung while the room allows, or streamed at
   * it where the budget has slack), the room that frees goes to streamed shards of the earliest layers, and
   * pass 2 runs again; two rounds settle every case measured.
   */
  private revisitPreload(order: Int32Array, room: number): void {
    const { rungs } = this.costs;
    const { rung, preload } = this.s;
    for (let round = 0; round < 2; round++) {
      const slack = this.slack();
      for (let k = 0; k < order.length; k++) {
        const i = order[k];
        if (preload[i] !== 1) continue;
        const l = Math.floor(i / this.m);
        const headroom = slack.headroom(l);
        const current = this.charge(i);
        const bits = rungs[rung[i]];
        for (let r = 0; r < rungs.length && rungs[r] > bits; r++) {
          const grow = this.bytes(i, r) - this.bytes(i);
          if (grow <= room) {
            room -= grow;
            slack.spend(l, this.charge(i, r, true) - current);
            rung[i] = r;
            break;
          }
          const delta = this.charge(i, r, false) - current;
          if (delta <= headroom + EPS) {
            room += this.bytes(i);
            slack.spend(l, delta);
            rung[i] = r;
            preload[i] = 0;
            break;
          }
        }
      }
      const { layerOrder, slices } = this.costs;
      for (let l = 0; l < this.n; l++)
        for (let k = l * slices; k < (l + 1) * slices; k++) {
          const i = l * this.m + layerOrder[k];
          if (layerOrder[k] < this.m && !preload[i] && this.bytes(i) <= room) {
            room -= this.bytes(i);
            preload[i] = 1;
          }
        }
      this.upgradeStreamed(order);
    }
  }
}

/** Every layer's AIB slack, and the least slack from each layer on (the headroom of a shard there). */
class Slack {
  constructor(
    private readonly values: Float64Array,
    private readonly least: Float64Array,
  ) {
    let x = Infinity;
    for (let k = values.length - 1; k >= 0; k--) this.least[k] = x = Math.min(x, values[k]);
  }

  /** The most a shard of layer l may add to its charge: the least slack of layers l and after. */
  headroom(l: number): number {
    return this.least[l];
  }

  /**
   * A shard of layer l charges `delta` more: every slack from l on shrinks by it, and so does the least of
   * them from each layer on (subtracting one number keeps the order of rounded results, so the least of the
   * new slacks is the old least minus delta, as recomputing them would give); before l, the least is
   * recomputed down to the first layer it does not change.
   */
  spend(l: number, delta: number): void {
    const { values, least } = this;
    for (let k = l; k < values.length; k++) {
      values[k] -= delta;
      least[k] -= delta;
    }
    for (let k = l - 1; k >= 0; k--) {
      const x = Math.min(least[k + 1], values[k]);
      if (x === least[k]) break;
      least[k] = x;
    }
  }
}
