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

/** A planned submodel: every shard's rung and preload flag (index layer · m + slice). */
export interface SubmodelPlan {
  n: number;
  m: number;
  rung: Int8Array;
  preload: Uint8Array;
}

const EPS = 1e-9;

/** Charges of layers 0..known-1 summed (layer by layer) for one (m, base rung), and the buffer room left. */
interface Prefix {
  sums: Float64Array;
  known: number;
  left: number;
}

/** Layer 0's preload for m slices: shards 0..count-1 at rung r0, and the room left. */
interface Layer0 {
  r0: number;
  count: number;
  room: number;
}

export class SubmodelPlanner {
  private readonly rung: Int8Array;
  private readonly preload: Uint8Array;
  private readonly trial: Uint8Array;
  /** Quantized rungs, highest bitwidth first. */
  private readonly quantized: number[];
  private readonly prefixes = new Map<number, Prefix>();
  private readonly layer0s = new Map<number, Layer0>();
  private n = 0;
  private m = 0;
  private tLayer = 0;
  /** Buffer room left while layers are filled (layerCharge). */
  private left = 0;

  constructor(
    private readonly costs: ShardCosts,
    private readonly targetMs: number,
    private readonly bufferBytes: number,
    private readonly o: StiOptions,
  ) {
    const size = costs.layers * costs.slices;
    this.rung = new Int8Array(size);
    this.preload = new Uint8Array(size);
    this.trial = new Uint8Array(size);
    this.quantized = costs.rungs.flatMap((b, r) => (b === 32 ? [] : [r]));
  }

  /** Plans one submodel; undefined when no uniform base bitwidth keeps every budget (2-bit streaming stalls). */
  plan(n: number, m: number, tLayer: number): SubmodelPlan | undefined {
    if (this.quantized.length === 0) return undefined;
    this.n = n;
    this.m = m;
    this.tLayer = tLayer;
    const lowest = this.quantized[this.quantized.length - 1];
    this.rung.fill(lowest, 0, n * m);
    this.preload.fill(0, 0, n * m);
    const l0 = this.preloadLayer0(lowest);
    this.rung.fill(l0.r0, 0, l0.count);
    this.preload.fill(1, 0, l0.count);
    // Pass 1: the highest uniform base bitwidth that keeps every AIB >= 0, spare room holding early shards.
    const base = this.quantized.find((r) => this.keepsBudgets(r, l0.room));
    if (base === undefined) return undefined;
    this.left = l0.room;
    for (let l = 0; l < n; l++) this.layerCharge(l, base);
    for (let i = 0; i < n * m; i++) {
      if (!this.preload[i]) this.rung[i] = base;
      this.preload[i] = this.trial[i];
    }
    const order = this.byImportance();
    if (this.o.upgrade) this.upgradeStreamed(order);
    if (this.o.revisitPreload) this.revisitPreload(order, this.left);
    return { n, m, rung: this.rung.slice(0, n * m), preload: this.preload.slice(0, n * m) };
  }

  private charge(i: number, rung = this.rung[i], preload = this.preload[i] === 1): number {
    const l = Math.floor(i / this.m);
    return this.costs.charge(l, i - l * this.m, rung, preload);
  }

  private bytes(i: number, rung = this.rung[i]): number {
    const l = Math.floor(i / this.m);
    return this.costs.bytes(l, i - l * this.m, rung);
  }

  /** AIB slack of layer k, the charges of layers <= k summing to `sum`. */
  private slackAt(k: number, sum: number): number {
    return this.targetMs - (this.n - k) * this.tLayer - sum;
  }

  /** Every layer's AIB slack in the current state. */
  private slack(): Float64Array {
    const slack = new Float64Array(this.n);
    let sum = 0;
    for (let l = 0, i = 0; l < this.n; l++) {
      let io = 0;
      for (let s = 0; s < this.m; s++, i++) io += this.charge(i);
      sum += io;
      slack[l] = this.slackAt(l, sum);
    }
    return slack;
  }

  /** The submodel's shards (layer · m + slice), most important first. */
  private byImportance(): Int32Array {
    const { slices, order } = this.costs;
    const out = new Int32Array(this.n * this.m);
    let k = 0;
    for (const g of order) {
      const l = Math.floor(g / slices);
      const s = g - l * slices;
      if (l < this.n && s < this.m) out[k++] = l * this.m + s;
    }
    return out;
  }

  /** Layer 0 whole at the highest bitwidth whose total fits the buffer (as many shards as fit, when none does). */
  private preloadLayer0(lowest: number): Layer0 {
    const { costs, m } = this;
    const known = this.layer0s.get(m);
    if (known) return known;
    let room = this.bufferBytes;
    let count = 0;
    let r0 = lowest;
    if (this.o.layer0First !== false) {
      r0 = costs.rungs.findIndex((_, r) => {
        let total = 0;
        for (let s = 0; s < m; s++) total += costs.bytes(0, s, r);
        return total <= room;
      });
      if (r0 < 0) r0 = lowest;
      for (; count < m && costs.bytes(0, count, r0) <= room; count++) room -= costs.bytes(0, count, r0);
    }
    const l0 = { r0, count, room };
    this.layer0s.set(m, l0);
    return l0;
  }

  /** Whether base rung r keeps every AIB of the current submodel, from the prefix sums of (m, r). */
  private keepsBudgets(r: number, room: number): boolean {
    const key = this.m * this.costs.rungs.length + r;
    let p = this.prefixes.get(key);
    if (!p) this.prefixes.set(key, (p = { sums: new Float64Array(this.costs.layers), known: 0, left: room }));
    for (let k = 0; k < this.n; k++) {
      if (k === p.known) {
        this.left = p.left;
        p.sums[k] = (k === 0 ? 0 : p.sums[k - 1]) + this.layerCharge(k, r);
        p.left = this.left;
        p.known++;
      }
      if (!(this.slackAt(k, p.sums[k]) >= -EPS)) return false;
    }
    return true;
  }

  /**
   * Layer l at base rung r: the spare room (this.left, while any is left) preloads its shards not yet
   * preloaded, most important first, into `trial`; returns the layer's charge against the AIB.
   */
  private layerCharge(l: number, r: number): number {
    const { m, costs, trial, preload } = this;
    const at = l * m;
    const order = costs.layerOrder;
    for (let s = 0; s < m; s++) trial[at + s] = preload[at + s];
    if (this.left > 0)
      for (let k = l * costs.slices; k < (l + 1) * costs.slices; k++) {
        const s = order[k];
        if (s >= m || trial[at + s]) continue;
        const b = costs.bytes(l, s, r);
        if (b <= this.left) {
          trial[at + s] = 1;
          this.left -= b;
        }
      }
    let io = 0;
    for (let s = 0; s < m; s++) io += preload[at + s] ? this.charge(at + s) : costs.charge(l, s, r, trial[at + s] === 1);
    return io;
  }

  /** Pass 2: in importance order, each streamed shard jumps to the highest rung every budget allows. */
  private upgradeStreamed(order: Int32Array): void {
    const slack = new Slack(this.slack());
    const { rungs } = this.costs;
    for (const i of order.filter((x) => !this.preload[x])) {
      const l = Math.floor(i / this.m);
      const headroom = slack.headroom(l);
      const current = this.charge(i);
      const bits = rungs[this.rung[i]];
      for (let r = 0; r < rungs.length && rungs[r] > bits; r++) {
        const delta = this.charge(i, r) - current;
        if (delta <= headroom + EPS) {
          this.rung[i] = r;
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
    for (let round = 0; round < 2; round++) {
      const slack = new Slack(this.slack());
      for (const i of order.filter((x) => this.preload[x] === 1)) {
        const l = Math.floor(i / this.m);
        const headroom = slack.headroom(l);
        const current = this.charge(i);
        const bits = rungs[this.rung[i]];
        for (let r = 0; r < rungs.length && rungs[r] > bits; r++) {
          const grow = this.bytes(i, r) - this.bytes(i);
          if (grow <= room) {
            room -= grow;
            slack.spend(l, this.charge(i, r, true) - current);
            this.rung[i] = r;
            break;
          }
          const delta = this.charge(i, r, false) - current;
          if (delta <= headroom + EPS) {
            room += this.bytes(i);
            slack.spend(l, delta);
            this.rung[i] = r;
            this.preload[i] = 0;
            break;
          }
        }
      }
      const { layerOrder, slices } = this.costs;
      for (let l = 0; l < this.n; l++)
        for (let k = l * slices; k < (l + 1) * slices; k++) {
          const i = l * this.m + layerOrder[k];
          if (layerOrder[k] < this.m && !this.preload[i] && this.bytes(i) <= room) {
            room -= this.bytes(i);
            this.preload[i] = 1;
          }
        }
      this.upgradeStreamed(order);
    }
  }
}

/** Every layer's AIB slack, and the least slack from each layer on (the headroom of a shard there). */
class Slack {
  private readonly least: Float64Array;

  constructor(private readonly values: Float64Array) {
    this.least = new Float64Array(values.length);
    this.refresh();
  }

  /** The most a shard of layer l may add to its charge: the least slack of layers l and after. */
  headroom(l: number): number {
    return this.least[l];
  }

  /** A shard of layer l charges `delta` more: every slack from l on shrinks by it. */
  spend(l: number, delta: number): void {
    for (let k = l; k < this.values.length; k++) this.values[k] -= delta;
    this.refresh();
  }

  private refresh(): void {
    let least = Infinity;
    for (let k = this.values.length - 1; k >= 0; k--) this.least[k] = least = Math.min(least, this.values[k]);
  }
}
