/** STI's three execution paradigms (§9): load-then-execute, layerwise pipelining, hold in memory. */
export const PARADIGMS = ['load-exec', 'layerwise', 'hold'] as const;
export type Paradigm = (typeof PARADIGMS)[number];
