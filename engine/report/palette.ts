/**
 * The one planner palette: every chart of the workbench and of the HTML report draws a planner in the
 * same colour and marker, whatever else is on the chart (keyed by the planner's name, never by its
 * position in a list). Colours are Okabe & Ito's colour-blind-safe set (Okabe, Ito, "Color Universal
 * Design", 2008), one per planner family; within a family each planner has its own marker shape and
 * dash, so two planners never look alike even in grey.
 * No imports: the renderer's bundle includes this file.
 */

/** Closed shapes only, so each can be drawn filled (deadline met) or hollow (missed). */
export type MarkerShape = 'circle' | 'square' | 'diamond' | 'triangle' | 'triangle-down' | 'star' | 'pentagon' | 'hexagon';

export interface PlannerStyle {
  /** The planner family: sti, sti variants, optimal, submodel, load-exec, stdpl, hold, other. */
  family: string;
  color: string;
  shape: MarkerShape;
  /** SVG stroke-dasharray of its line; undefined for a solid line. */
  dash?: string;
}

/**
 * Okabe–Ito without yellow (too light on white) and black (invisible on the dark theme); a mid grey,
 * readable on both themes, for the exact solver; brown for planners the palette does not know.
 */
const OKABE_ITO = {
  blue: '#0072B2',
  sky: '#56B4E9',
  green: '#009E73',
  orange: '#E69F00',
  vermillion: '#D55E00',
  purple: '#CC79A7',
  grey: '#8C8C8C',
  brown: '#A6761D',
};

const FAMILY_COLOR: Record<string, string> = {
  sti: OKABE_ITO.blue,
  'sti-variant': OKABE_ITO.sky,
  optimal: OKABE_ITO.grey,
  submodel: OKABE_ITO.purple,
  'load-exec': OKABE_ITO.orange,
  stdpl: OKABE_ITO.vermillion,
  hold: OKABE_ITO.green,
  other: OKABE_ITO.brown,
};

/** Markers of the planners that carry a bitwidth (stdpl-4, hold-32, …), by bits. */
const BITS_SHAPE: Record<number, MarkerShape> = {
  2: 'triangle',
  3: 'triangle-down',
  4: 'square',
  5: 'diamond',
  6: 'star',
  8: 'hexagon',
  16: 'pentagon',
  32: 'circle',
};
const BITS_DASH: Record<number, string | undefined> = { 2: '2 3', 3: '6 3', 4: undefined, 5: '8 3 2 3', 6: '1 2', 32: '10 4' };

const NAMED: Record<string, Omit<PlannerStyle, 'color'>> = {
  sti: { family: 'sti', shape: 'circle' },
  'sti-plus': { family: 'sti-variant', shape: 'diamond' },
  'sti-nobuffer': { family: 'sti-variant', shape: 'triangle', dash: '6 3' },
  'sti-uniform': { family: 'sti-variant', shape: 'square', dash: '2 3' },
  optimal: { family: 'optimal', shape: 'star', dash: '5 3' },
  submodel: { family: 'submodel', shape: 'pentagon' },
  // RWKV-edge's settings (engine/families/rwkv/edge/baselines.ts): the planner as STI's own, the dense model
  // held as hold-X (resident), streamed as stdpl-X, each technique alone as a variant, the combinations apart.
  planner: { family: 'sti', shape: 'circle' },
  'dense-fp16': { family: 'hold', shape: 'circle' },
  'dense-int8': { family: 'hold', shape: 'hexagon', dash: '6 3' },
  'dense-streamed': { family: 'stdpl', shape: 'diamond', dash: '4 2' },
  lowrank: { family: 'sti-variant', shape: 'triangle' },
  'sparse-ffn': { family: 'sti-variant', shape: 'diamond' },
  'emb-cache': { family: 'sti-variant', shape: 'square' },
  'cluster-head': { family: 'sti-variant', shape: 'triangle-down' },
  all: { family: 'submodel', shape: 'star' },
  'all-int8': { family: 'submodel', shape: 'pentagon', dash: '6 3' },
};

const SHAPES: MarkerShape[] = ['circle', 'square', 'diamond', 'triangle', 'triangle-down', 'star', 'pentagon', 'hexagon'];

/** A stable small hash of a name (FNV-1a), for planners the palette does not know. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The style of a planner, from its name alone. */
export function plannerStyle(name: string): PlannerStyle {
  const named = NAMED[name];
  if (named) return { ...named, color: FAMILY_COLOR[named.family] };
  const m = /^(load-exec|stdpl|hold)-(\d+)$/.exec(name);
  if (m) {
    const bits = Number(m[2]);
    return { family: m[1], color: FAMILY_COLOR[m[1]], shape: BITS_SHAPE[bits] ?? 'hexagon', dash: BITS_DASH[bits] };
  }
  return { family: 'other', color: FAMILY_COLOR.other, shape: SHAPES[hash(name) % SHAPES.length] };
}

/**
 * The SVG path of a marker of radius r centred on (cx, cy): filled when the point met its deadline,
 * hollow (stroke only) when it missed it — the one encoding of every chart.
 */
export function markerPath(shape: MarkerShape, cx: number, cy: number, r: number): string {
  const p = (pts: [number, number][]) => `M${pts.map(([x, y]) => `${(cx + x).toFixed(2)},${(cy + y).toFixed(2)}`).join('L')}Z`;
  switch (shape) {
    case 'circle':
      return `M${(cx - r).toFixed(2)},${cy.toFixed(2)}a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0Z`;
    case 'square': {
      const s = r * 0.9;
      return p([
        [-s, -s],
        [s, -s],
        [s, s],
        [-s, s],
      ]);
    }
    case 'diamond':
      return p([
        [0, -r * 1.25],
        [r * 1.1, 0],
        [0, r * 1.25],
        [-r * 1.1, 0],
      ]);
    case 'triangle':
      return p([
        [0, -r * 1.2],
        [r * 1.1, r * 0.9],
        [-r * 1.1, r * 0.9],
      ]);
    case 'triangle-down':
      return p([
        [0, r * 1.2],
        [r * 1.1, -r * 0.9],
        [-r * 1.1, -r * 0.9],
      ]);
    case 'star': {
      const pts: [number, number][] = [];
      for (let i = 0; i < 10; i++) {
        const a = (Math.PI / 5) * i - Math.PI / 2;
        const rr = i % 2 ? r * 0.55 : r * 1.3;
        pts.push([rr * Math.cos(a), rr * Math.sin(a)]);
      }
      return p(pts);
    }
    case 'pentagon':
    case 'hexagon': {
      const n = shape === 'pentagon' ? 5 : 6;
      const pts: [number, number][] = [];
      for (let i = 0; i < n; i++) {
        const a = ((2 * Math.PI) / n) * i - Math.PI / 2;
        pts.push([r * 1.15 * Math.cos(a), r * 1.15 * Math.sin(a)]);
      }
      return p(pts);
    }
  }
}
