import { z } from 'zod';

/**
 * The control messages of a secure round (shared/fl/secagg/protocol.ts), over Socket.IO. Keys,
 * sealed shares and revealed shares travel base64-encoded; masked inputs travel over HTTP
 * (`POST /api/studies/:id/rounds/:round/masked`, shared/fl/secagg/wire.ts).
 */
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64').max(200_000);
const round = { studyId: z.string(), round: z.number().int().min(1) };
const index = z.number().int().min(0).max(65_534);

/** What a sampled site learns with its round's opening (RoundOpen.secureAggregation). */
export const secureRoundSchema = z.object({
  /** This site's position in the round's sorted sample: its index in every message. */
  index,
  /** Sites sampled, and the fewest any step may continue with. */
  sampled: z.number().int().min(1),
  threshold: z.number().int().min(1),
  /** The ring: values are round(w · clip(Δ) · 2^fractionBits) mod 2^bits. */
  bits: z.union([z.literal(32), z.literal(64)]),
  fractionBits: z.number().int().min(0).max(52),
  /** The site clips its delta to this L2 norm: the server cannot check it. */
  clipNorm: z.number().positive(),
  /** The site weighs its update by min(records, weightCap); null: uncapped. */
  weightCap: z.number().int().min(1).nullable(),
  /** Seeds and ciphertexts are bound to it. */
  context: z.string(),
  /**
   * SecAgg+'s sparse graph (shared/fl/secagg/graph.ts), when the round has one: every site builds it
   * from the seed and k, and shares, masks and reveals with its k neighbours only, `threshold` of its
   * k + 1-site neighbourhood rebuilding its secrets (a strict majority at least). Absent: the complete graph.
   */
  graph: z
    .object({
      seed: z.string().regex(/^[0-9a-f]{32}$/, '32 lowercase hex digits'),
      neighbours: z.number().int().min(2),
      threshold: z.number().int().min(2),
    })
    .refine((g) => g.threshold >= Math.floor((g.neighbours + 1) / 2) + 1 && g.threshold <= g.neighbours + 1, 'a neighbourhood threshold is a strict majority of the k + 1 sites, at most all of them')
    .optional(),
  /**
   * Distributed differential privacy (shared/fl/secagg/distributedNoise.ts), when the study has privacy:
   * the site weighs its update by min(records / recordCap, 1) (not by weightCap), sends the d values
   * alone (no count coordinate: the server divides by the fixed q·W), and adds Sk(muShare) to every
   * value of its encoded input before masking (`addSkellamNoise`): muShare = μ / threshold, so any
   * `threshold` survivors put the study's noise Sk(μ) in the sum. Absent: no noise, and the count coordinate.
   */
  noise: z.object({ muShare: z.number().positive().max(2 ** 52), recordCap: z.number().int().min(1) }).optional(),
});
export type SecureRound = z.infer<typeof secureRoundSchema>;

export const advertiseSchema = z.object({ ...round, cPublic: base64, sPublic: base64 });
export type AdvertiseRequest = z.infer<typeof advertiseSchema>;

/** Server → every site that advertised: U1's keys. */
export const advertisedKeysSchema = z.object({ ...round, keys: z.array(z.object({ index, cPublic: base64, sPublic: base64 })) });
export type AdvertisedKeys = z.infer<typeof advertisedKeysSchema>;

export const shareKeysSchema = z.object({ ...round, sealed: z.array(z.object({ to: index, sealed: base64 })).max(65_535) });
export type ShareKeysRequest = z.infer<typeof shareKeysSchema>;

/** Server → each site of U2: the shares sealed for it. */
export const sharesForYouSchema = z.object({ ...round, sealed: z.array(z.object({ from: index, sealed: base64 })) });
export type SharesForYou = z.infer<typeof sharesForYouSchema>;

/** Server → each site of U3: whose masked inputs it holds. */
export const unmaskRequestSchema = z.object({ ...round, survivors: z.array(index) });
export type UnmaskRequest = z.infer<typeof unmaskRequestSchema>;

const revealed = z.array(z.object({ of: index, x: z.number().int().min(1).max(65_535), y: base64 }));
export const revealSchema = z.object({ ...round, selfSeeds: revealed, maskKeys: revealed });
export type RevealRequest = z.infer<typeof revealSchema>;

/**
 * The study setting: null, or secure aggregation with its fixed-point precision (null: the most the 32- or
 * 64-bit ring allows) and `neighbours`, k of SecAgg+'s sparse graph (null or absent: automatic, the complete graph
 * up to 64 sampled sites, then the least even number ≥ 6·log2(n); k ≥ n − 1 is the complete graph).
 */
export const secureAggregationSchema = z.strictObject({
  fractionBits: z.number().int().min(8, 'secureAggregation.fractionBits must be at least 8').max(40, 'secureAggregation.fractionBits is at most 40').nullable().default(null),
  neighbours: z.number().int('secureAggregation.neighbours is a whole number').min(2, 'secureAggregation.neighbours must be at least 2').nullish(),
});
export type SecureAggregation = z.infer<typeof secureAggregationSchema>;
