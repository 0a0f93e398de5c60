/** The splits every task is cut into (deterministically, by each family's data loader). */
export const SPLITS = ['train', 'dev', 'test'] as const;
export type Split = (typeof SPLITS)[number];

export function isSplit(name: string): name is Split {
  return (SPLITS as readonly string[]).includes(name);
}
