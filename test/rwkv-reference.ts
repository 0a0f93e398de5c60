/**
 * A plain float64 RWKV forward pass (rwkv-edge.md §2), written straight from the equations with loops: an
 * independent check of the step graph on shapes rwkv.cpp's vectors do not cover (their 5.x models have
 * as many heads as channels per head, so a heads/channels mix-up would pass them).
 */
import { keptNeurons, layerQuantile, quantizeCopy, type QuantPredictor } from '../engine/families/rwkv/sparse-ffn.js';
import type { RwkvWeights } from '../engine/families/rwkv/weights.js';

type Vec = Float64Array;

function layerNorm(x: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>, eps: number, from = 0, n = x.length): Vec {
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[from + i];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[from + i] - mean) ** 2;
  const inv = 1 / Math.sqrt(v / n + eps);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (x[from + i] - mean) * inv * g[i] + b[i];
  return out;
}

/** W·x for a row-major (rows, cols) W. */
function matVec(w: Float32Array, x: Vec): Vec {
  const cols = x.length;
  const out = new Float64Array(w.length / cols);
  for (let r = 0; r < out.length; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += w[r * cols + c] * x[c];
    out[r] = s;
  }
  return out;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const map = (a: Vec, f: (x: number, i: number) => number) => a.map(f);

interface LayerState {
  attX: Vec;
  ffnX: Vec;
  aa: Vec;
  bb: Vec;
  pp: Vec;
  /** v5: S[h][i][j] flat, key i, value j. */
  s: Vec;
}

/** Per layer, of the last step with a key-copy predictor: [truly active, predicted, both] neurons. */
export type FfnCounts = [number, number, number][];

export class ReferenceRwkv {
  private state: LayerState[];
  readonly lastFfnCounts: FfnCounts = [];
  private readonly copies = new Map<string, Float32Array>();

  /** `quant`: mask channel-mix to the neurons a b-bit key copy picks, as sparse-ffn.ts describes it. */
  constructor(
    private readonly w: RwkvWeights,
    private readonly quant?: QuantPredictor,
  ) {
    const D = w.embd;
    this.state = Array.from({ length: w.layers }, () => ({
      attX: new Float64Array(D),
      ffnX: new Float64Array(D),
      aa: new Float64Array(D),
      bb: new Float64Array(D),
      pp: new Float64Array(D).fill(-1e30),
      s: new Float64Array(D * w.headSize),
    }));
  }

  private t(name: string): Float32Array {
    return this.w.tensors.get(name)!.data;
  }

  /** W·x for the (out, in) matrix `name`, or its low-rank form when the model is factored. */
  private project(name: string, x: Vec): Vec {
    if (this.w.tensors.has(name)) return matVec(this.t(name), x);
    const base = name.slice(0, -'.weight'.length);
    let h = matVec(this.t(`${base}1.weight`), x);
    if (this.w.lowrank?.kind !== 'relu2') return matVec(this.t(`${base}2.weight`), h);
    h = map(h, (v) => Math.max(v, 0) ** 2);
    const d = this.t(`${base}_diag`);
    return map(matVec(this.t(`${base}2.weight`), h), (y, i) => y + d[i] * x[i]);
  }

  private shift(xx: Vec, prev: Vec, mix: string): Vec {
    const mu = this.t(mix);
    return map(xx, (x, i) => x * mu[i] + prev[i] * (1 - mu[i]));
  }

  private timeMix(l: number, xx: Vec): Vec {
    const p = `blocks.${l}.att`;
    const st = this.state[l];
    const { heads: H, headSize: N, embd: D } = this.w;
    const proj = (m: string, name: string) => this.project(`${p}.${name}.weight`, this.shift(xx, st.attX, `${p}.time_mix_${m}`));
    const [r, k, v] = [proj('r', 'receptance'), proj('k', 'key'), proj('v', 'value')];
    const u = this.t(`${p}.time_first`);
    const w = this.t(`${p}.time_decay`);
    let out = new Float64Array(D);
    if (this.w.version === '4') {
      for (let i = 0; i < D; i++) {
        const ww = u[i] + k[i];
        const q = Math.max(st.pp[i], ww);
        const [e1, e2] = [Math.exp(st.pp[i] - q), Math.exp(ww - q)];
        out[i] = sigmoid(r[i]) * ((e1 * st.aa[i] + e2 * v[i]) / (e1 * st.bb[i] + e2));
        const ww2 = st.pp[i] + w[i];
        const q2 = Math.max(ww2, k[i]);
        const [f1, f2] = [Math.exp(ww2 - q2), Math.exp(k[i] - q2)];
        st.aa[i] = f1 * st.aa[i] + f2 * v[i];
        st.bb[i] = f1 * st.bb[i] + f2;
        st.pp[i] = q2;
      }
    } else {
      for (let h = 0; h < H; h++)
        for (let j = 0; j < N; j++) {
          let y = 0;
          for (let i = 0; i < N; i++) y += r[h * N + i] * (u[h * N + i] * k[h * N + i] * v[h * N + j] + st.s[(h * N + i) * N + j]);
          out[h * N + j] = y;
        }
      for (let h = 0; h < H; h++)
        for (let i = 0; i < N; i++)
          for (let j = 0; j < N; j++) {
            const at = (h * N + i) * N + j;
            st.s[at] = st.s[at] * Math.exp(w[h * N + i]) + k[h * N + i] * v[h * N + j];
          }
      const g = this.t(`${p}.ln_x.weight`);
      const b = this.t(`${p}.ln_x.bias`);
      const gn = new Float64Array(D);
      for (let h = 0; h < H; h++) gn.set(layerNorm(out, g.subarray(h * N), b.subarray(h * N), this.w.groupNormEps, h * N, N), h * N);
      out = gn;
      if (this.w.version === '5.2') {
        const gate = proj('g', 'gate');
        out = map(out, (o, i) => o * gate[i] * sigmoid(gate[i]));
      }
    }
    st.attX = xx;
    return matVec(this.t(`${p}.output.weight`), out);
  }

  private channelMix(l: number, xx: Vec): Vec {
    const p = `blocks.${l}.ffn`;
    const st = this.state[l];
    const r = this.project(`${p}.receptance.weight`, this.shift(xx, st.ffnX, `${p}.time_mix_r`));
    const xk = this.shift(xx, st.ffnX, `${p}.time_mix_k`);
    const pre = matVec(this.t(`${p}.key.weight`), xk);
    let k = map(pre, (x) => Math.max(x, 0) ** 2);
    if (this.quant) {
      const keep = this.predicted(l, xk);
      const active = pre.map((x) => (x > 0 ? 1 : 0));
      const count = (f: (i: number) => boolean) => pre.reduce((n, _, i) => n + (f(i) ? 1 : 0), 0);
      this.lastFfnCounts[l] = [count((i) => active[i] === 1), count((i) => keep[i]), count((i) => keep[i] && active[i] === 1)];
      k = map(k, (x, i) => (keep[i] ? x : 0));
    }
    st.ffnX = xx;
    const v = matVec(this.t(`${p}.value.weight`), k);
    return map(v, (x, i) => sigmoid(r[i]) * x);
  }

  /** The neurons whose key-copy score is among the top round((1 − q)·F), ties at the threshold kept. */
  private predicted(l: number, xk: Vec): boolean[] {
    const name = `blocks.${l}.ffn.key.weight`;
    if (!this.copies.has(name)) this.copies.set(name, quantizeCopy(this.t(name), this.quant!.bits));
    const scores = matVec(this.copies.get(name)!, xk);
    const kept = keptNeurons(this.w.ffn, layerQuantile(this.quant!, l));
    const threshold = [...scores].sort((a, b) => b - a)[kept - 1]!;
    return [...scores].map((s) => s >= threshold);
  }

  step(token: number): Vec {
    const { embd: D } = this.w;
    const eps = 1e-5;
    const row = this.t('emb.weight').subarray(token * D, (token + 1) * D);
    let x = layerNorm(row, this.t('blocks.0.ln0.weight'), this.t('blocks.0.ln0.bias'), eps);
    for (let l = 0; l < this.w.layers; l++) {
      const a = this.timeMix(l, layerNorm(x, this.t(`blocks.${l}.ln1.weight`), this.t(`blocks.${l}.ln1.bias`), eps));
      x = map(x, (v, i) => v + a[i]);
      const f = this.channelMix(l, layerNorm(x, this.t(`blocks.${l}.ln2.weight`), this.t(`blocks.${l}.ln2.bias`), eps));
      x = map(x, (v, i) => v + f[i]);
    }
    return matVec(this.t('head.weight'), layerNorm(x, this.t('ln_out.weight'), this.t('ln_out.bias'), eps));
  }
}
