/**
 * SoC profiles: what the cost model and throttles need to know about a board or phone, every number
 * with its source and how trustworthy it is. Profiles are JSON data in socs/, validated here.
 * Units are decimal, as in the STI figures the profiles are calibrated against: MB = 10^6 bytes, GB = 10^9.
 */
import { z } from 'zod';

/**
 * How a number was obtained (../shared/reference/soc-data.md labels M, P, D, U): measured by a third party,
 * vendor or spec-sheet value (also plain facts such as core counts), derived by arithmetic from such values,
 * or unverified (a placeholder or an assumption, to be checked).
 */
export const EVIDENCE = ['measured', 'peak', 'derived', 'unverified'] as const;

/** A number with its provenance: `source` is an id from the profile's `sources` list. */
export const sourced = (value: z.ZodNumber) =>
  z
    .object({
      value,
      kind: z.enum(EVIDENCE),
      source: z.string().min(1),
      note: z.string().optional(),
    })
    .strict();

const positive = () => sourced(z.number().positive());

export const ClusterSchema = z
  .object({
    /** Cluster id used by --cluster: "big", "little", or "prime" on phones with a prime core; a single-cluster SoC has "big". */
    id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a lower-case id like "big"'),
    core: z.string().min(1),
    cores: sourced(z.number().int().positive()),
    ghz: sourced(z.number().positive().max(6)),
    /** Peak fp32 GFLOP/s of one core at `ghz` (FMA width × clock). */
    peakGflopsPerCore: positive(),
    /** Single-core memcpy bandwidth, GB/s. */
    memcpyGBpsPerCore: positive().optional(),
  })
  .strict();

export const SocProfileSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be kebab-case, like "odroid-n2plus"'),
    name: z.string().min(1),
    description: z.string().optional(),
    storage: z
      .object({
        kind: z.string().min(1),
        /** Sequential read bandwidth seen by the application when it streams shard files, MB/s. */
        readMBps: positive(),
        /** Fixed cost of each read request (open + first access), ms. */
        requestLatencyMs: sourced(z.number().nonnegative()),
      })
      .strict(),
    memory: z
      .object({
        type: z.string().min(1),
        ramMB: positive(),
        /** DRAM bandwidth achievable by the compute unit, GB/s. */
        bandwidthGBps: positive(),
      })
      .strict(),
    cpu: z
      .object({ clusters: z.array(ClusterSchema).min(1) })
      .strict()
      .superRefine((cpu, ctx) => {
        cpu.clusters.forEach((c, i) => {
          if (cpu.clusters.findIndex((d) => d.id === c.id) < i)
            ctx.addIssue({ code: 'custom', path: ['clusters', i, 'id'], message: `cluster id "${c.id}" is used twice` });
          // A FLOP/cycle outside 1..64 means a unit slip (GFLOP/s of the cluster, MHz for GHz), not a real core.
          const perCycle = c.peakGflopsPerCore.value / c.ghz.value;
          if (perCycle < 1 || perCycle > 64)
            ctx.addIssue({
              code: 'custom',
              path: ['clusters', i, 'peakGflopsPerCore', 'value'],
              message: `${c.peakGflopsPerCore.value} GFLOP/s at ${c.ghz.value} GHz is ${perCycle.toFixed(1)} FLOP/cycle per core; expected 1 to 64`,
            });
        });
      }),
    gpu: z
      .object({
        name: z.string().min(1),
        peakGflops: positive(),
        /** Fraction of peak that transformer kernels sustain on the GPU. */
        computeEfficiency: sourced(z.number().positive().max(1)),
        /** Fixed cost per encoder layer on the GPU (kernel launches, synchronisation), ms. */
        layerOverheadMs: sourced(z.number().nonnegative()),
        /** True when the GPU shares DRAM with the CPU (no copy to device memory). */
        unifiedMemory: z.boolean(),
      })
      .strict()
      .optional(),
    /** Fraction of the CPU's peak FLOP/s that dense transformer kernels sustain (framework, cache, thermals). */
    computeEfficiency: sourced(z.number().positive().max(1)),
    /** Fixed cost per encoder layer on the CPU whatever its width (framework dispatch, norms, residuals), ms. */
    layerOverheadMs: sourced(z.number().nonnegative()),
    /**
     * Preparing an fp32 shard for compute (copy into the layer's buffers, framework tensor set-up), MB/s per
     * core of the default cluster. STI's prototype charges 2 ms for every shard, fp32 included.
     */
    fp32CopyMBpsPerCore: positive(),
    /** Dequantization throughput of one core of the default cluster, MB/s of compressed input. */
    dequantMBpsPerCore: positive(),
    /** What runs a request unless a run says otherwise. */
    defaults: z
      .object({
        computeUnit: z.enum(['cpu', 'gpu']),
        cluster: z.string(),
        cores: z.number().int().positive(),
      })
      .strict(),
    /** Every `source` above names one of these; `citation` says where the number can be checked. */
    sources: z.array(z.object({ id: z.string().min(1), citation: z.string().min(1) }).strict()).min(1),
  })
  .strict()
  .superRefine((p, ctx) => {
    const clusters = p.cpu.clusters.map((c) => c.id);
    if (!clusters.includes(p.defaults.cluster))
      ctx.addIssue({
        code: 'custom',
        path: ['defaults', 'cluster'],
        message: `no cluster "${p.defaults.cluster}" (have ${clusters.join(', ')})`,
      });
    const cluster = p.cpu.clusters.find((c) => c.id === p.defaults.cluster);
    if (cluster && p.defaults.cores > cluster.cores.value)
      ctx.addIssue({
        code: 'custom',
        path: ['defaults', 'cores'],
        message: `${p.defaults.cores} cores but cluster "${cluster.id}" has ${cluster.cores.value}`,
      });
    if (p.defaults.computeUnit === 'gpu' && !p.gpu)
      ctx.addIssue({ code: 'custom', path: ['defaults', 'computeUnit'], message: 'gpu, but the profile has no gpu' });
    p.sources.forEach((s, i) => {
      if (p.sources.findIndex((t) => t.id === s.id) < i)
        ctx.addIssue({ code: 'custom', path: ['sources', i, 'id'], message: `source id "${s.id}" is listed twice` });
    });
    const ids = new Set(p.sources.map((s) => s.id));
    const walk = (v: unknown, path: (string | number)[]) => {
      if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (typeof o.source === 'string' && 'kind' in o && !ids.has(o.source))
          ctx.addIssue({ code: 'custom', path: [...path, 'source'], message: `source "${o.source}" is not in the profile's sources list` });
        for (const [k, x] of Object.entries(o)) if (k !== 'sources') walk(x, [...path, k]);
      }
    };
    walk(p, []);
  });

export type SocProfile = z.infer<typeof SocProfileSchema>;
export type Cluster = z.infer<typeof ClusterSchema>;
