import { z } from 'zod';
import { studyConfigSchema } from '../protocol/schemas';
import { modelInputShape, modelSpecProblem } from './modelSpec';

const name = z.string().regex(/^[a-z][a-zA-Z0-9_]*$/);

export const numericFeatureSchema = z.object({
  kind: z.literal('numeric'),
  name,
  label: z.string(),
  unit: z.string().optional(),
  min: z.number(),
  max: z.number(),
  /** Reference statistics used to impute and standardise until federated normalisation exists. */
  mean: z.number(),
  std: z.number().positive(),
  integer: z.boolean().default(false),
  /**
   * `min`–`max` is the plausible range: a value outside it is kept and flagged in the import review.
   * `limits` is the possible range: a value outside it cannot be a measurement and its row is refused.
   * Absent, the plausible range is also the possible one.
   */
  limits: z.object({ min: z.number(), max: z.number() }).optional(),
  /** 0 cannot be a measurement of this feature (a serum cholesterol, a blood pressure): an export's 0 means "not measured". */
  cannotBeZero: z.boolean().optional(),
  missingIndicator: z.boolean().optional(),
}).refine((f) => !f.limits || (f.limits.min <= f.min && f.limits.max >= f.max), { message: 'the possible range (limits) must contain the plausible range (min–max)', path: ['limits'] });

export const binaryFeatureSchema = z.object({
  kind: z.literal('binary'),
  name,
  label: z.string(),
  /** Meaning of 0 and of 1. */
  values: z.tuple([z.string(), z.string()]),
  mode: z.union([z.literal(0), z.literal(1)]),
  missingIndicator: z.boolean().optional(),
});

export const categoricalFeatureSchema = z.object({
  kind: z.literal('categorical'),
  name,
  label: z.string(),
  categories: z.array(z.object({ code: z.number().int(), label: z.string() })).min(2),
  /** Code imputed when the value is missing. */
  mode: z.number().int(),
  /**
   * One more encoded input, 1 where the value was missing (and imputed), 0 where it was measured: the
   * model can tell an imputed value from a measured one (every feature kind takes it).
   */
  missingIndicator: z.boolean().optional(),
});

/**
 * How the label column's cells become the label, whatever column a file has it in (the import finds
 * the column by name; see shared/data/csv/labelRule.ts, which adds the column):
 *  - `direct`: 0 and 1, or the class index of a multi-class study;
 *  - `compare`: 1 when the cell's number compares true (`> 0` turns a 0–4 severity scale into 0/1);
 *  - `match`: 1 for one of `positive`; 0 for one of `negative` (or anything else without it);
 *  - `classes`: multi-class; `values[k]` lists the texts (or numbers) that mean class k.
 */
export const labelRuleVariants = {
  direct: z.object({ kind: z.literal('direct') }),
  compare: z.object({ kind: z.literal('compare'), op: z.enum(['>', '>=', '<', '<=', '==', '!=']), value: z.number().finite() }),
  match: z.object({ kind: z.literal('match'), positive: z.array(z.string().trim().min(1)).min(1), negative: z.array(z.string().trim().min(1)).optional() }),
  classes: z.object({ kind: z.literal('classes'), values: z.array(z.array(z.string().trim().min(1))).min(2) }),
};
export const templateLabelRuleSchema = z.discriminatedUnion('kind', [labelRuleVariants.direct, labelRuleVariants.compare, labelRuleVariants.match, labelRuleVariants.classes]);
export type TemplateLabelRule = z.infer<typeof templateLabelRuleSchema>;

export const featureSchema = z.discriminatedUnion('kind', [
  numericFeatureSchema,
  binaryFeatureSchema,
  categoricalFeatureSchema,
]);
export type Feature = z.infer<typeof featureSchema>;
export type NumericFeature = z.infer<typeof numericFeatureSchema>;
export type CategoricalFeature = z.infer<typeof categoricalFeatureSchema>;

export const denseLayerSchema = z.object({
  type: z.literal('dense'),
  units: z.number().int().min(1).max(4096),
  activation: z.enum(['linear', 'relu', 'tanh', 'sigmoid', 'softmax']),
});
export type DenseLayer = z.infer<typeof denseLayerSchema>;

/** A window or stride: one number for both spatial axes, or `[rows, columns]`. */
const size2dSchema = z.union([z.number().int().min(1).max(64), z.tuple([z.number().int().min(1).max(64), z.number().int().min(1).max(64)])]);
export type Size2d = z.infer<typeof size2dSchema>;
const paddingSchema = z.enum(['same', 'valid']);

/** 2-D convolution over `[height, width, channels]` inputs (channels last, as TensorFlow.js defaults to). */
export const conv2dLayerSchema = z.object({
  type: z.literal('conv2d'),
  filters: z.number().int().min(1).max(1024),
  kernelSize: size2dSchema,
  /** Default 1. */
  strides: size2dSchema.optional(),
  padding: paddingSchema,
  activation: z.enum(['linear', 'relu', 'tanh', 'sigmoid']),
});
export type Conv2dLayer = z.infer<typeof conv2dLayerSchema>;

export const maxPooling2dLayerSchema = z.object({
  type: z.literal('maxPooling2d'),
  poolSize: size2dSchema,
  /** Default: the pool size (non-overlapping windows). */
  strides: size2dSchema.optional(),
  /** Default 'valid'. */
  padding: paddingSchema.optional(),
});
export type MaxPooling2dLayer = z.infer<typeof maxPooling2dLayerSchema>;

export const flattenLayerSchema = z.object({ type: z.literal('flatten') });
export type FlattenLayer = z.infer<typeof flattenLayerSchema>;

/**
 * A basic residual block (ResNet's, He et al. 2016): 3×3 conv → norm → ReLU → 3×3 conv → norm, plus
 * the input, then ReLU. Where the block changes the width or strides, the input passes through a
 * 1×1 conv → norm projection first. The convolutions have no bias (the norm's beta is one).
 *
 * The norm is GroupNorm, not BatchNorm: its statistics come from each sample alone, so there are no
 * moving averages to keep as non-trainable weights and average across sites whose scans differ, it
 * works the same in training and evaluation, with any batch size, and every weight is trainable (the
 * update clipping and FedProx treat them all alike). Hsieh et al. (2020) found GroupNorm the one that
 * holds up under non-IID federated data.
 */
export const residualBlockLayerSchema = z.object({
  type: z.literal('residualBlock'),
  filters: z.number().int().min(1).max(1024),
  /** 1 keeps the spatial size; 2 halves it (the first block of a stage). Default 1. */
  strides: z.union([z.literal(1), z.literal(2)]).optional(),
  /** GroupNorm groups; must divide `filters`. Default 8. */
  groups: z.number().int().min(1).max(1024).optional(),
});
export type ResidualBlockLayer = z.infer<typeof residualBlockLayerSchema>;

/** Mean of each channel over the spatial axes: `[h, w, c]` to `[c]`, no weights. */
export const globalAveragePooling2dLayerSchema = z.object({ type: z.literal('globalAveragePooling2d') });
export type GlobalAveragePooling2dLayer = z.infer<typeof globalAveragePooling2dLayerSchema>;

export const layerSchema = z.discriminatedUnion('type', [
  denseLayerSchema,
  conv2dLayerSchema,
  maxPooling2dLayerSchema,
  flattenLayerSchema,
  residualBlockLayerSchema,
  globalAveragePooling2dLayerSchema,
]);
export type Layer = z.infer<typeof layerSchema>;

const modelSpecObject = z.object({
  /** Width of a flat input vector (tabular models). */
  inputDim: z.number().int().min(1).optional(),
  /** Shape of one input sample, e.g. `[32, 32, 1]` for a grayscale image; `[inputDim]` when absent. */
  inputShape: z.array(z.number().int().min(1).max(4096)).min(1).max(3).optional(),
  layers: z.array(layerSchema).min(1),
  loss: z.enum(['binaryCrossentropy', 'categoricalCrossentropy']),
  optimizer: z.enum(['adam', 'sgd']),
});
export type ModelSpec = z.infer<typeof modelSpecObject>;

/**
 * A model described as data, so the server can size and initialise it without TensorFlow.js. The
 * layers must fit together (see `layerOutputShapes`); the last one is a dense output layer, one
 * sigmoid unit for binary cross-entropy, a softmax over the classes for categorical cross-entropy.
 */
export const modelSpecSchema = modelSpecObject.superRefine((spec, ctx) => {
  const problem = modelSpecProblem(spec);
  if (problem) ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
});

/** A grayscale or colour image input; pixel values are scaled to [0, 1]. */
export const imageInputSchema = z.object({
  width: z.number().int().min(1).max(1024),
  height: z.number().int().min(1).max(1024),
  channels: z.union([z.literal(1), z.literal(3)]),
});
export type ImageInput = z.infer<typeof imageInputSchema>;

/** A template's default study configuration trains with its model spec's optimiser unless it names another. */
function withModelOptimizer(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const t = raw as { model?: { optimizer?: unknown }; defaults?: Record<string, unknown> };
  if (!t.defaults || typeof t.defaults !== 'object' || t.defaults.optimizer !== undefined || t.model?.optimizer === undefined) return raw;
  return { ...t, defaults: { ...t.defaults, optimizer: t.model.optimizer } };
}

export const taskTemplateSchema = z.preprocess(
  withModelOptimizer,
  z
    .object({
      /** Unique: `family` for version 1, `family@version` after (`heart-risk@2`). Studies keep the id they were made with. */
      id: z.string().regex(/^[A-Za-z0-9][\w.-]*(@[1-9][0-9]*)?$/, "a template id is a name, with @version after version 1"),
      /**
       * A template's versions share its features (a site's imported data serves every version) and
       * differ in how they encode them or in the model; a new version never changes an existing study.
       */
      version: z.number().int().min(1).default(1),
      /** What this version changes from the one before it, in a sentence an admin reads when choosing. */
      changes: z.string().optional(),
      /**
       * Set on a version offered beside the family's main line rather than after it (a bigger model
       * for sites with a GPU): it supersedes no version, new studies do not start on it, and this
       * short phrase names it in the template picker.
       */
      alternative: z.string().optional(),
      name: z.string(),
      description: z.string(),
      label: z.object({
        name,
        description: z.string(),
        positive: z.string(),
        negative: z.string(),
        /** Multi-class templates: the name of each class, by class index. */
        classes: z.array(z.string()).min(2).optional(),
        /** How an export's label column reads (custom studies say it; without it the import guesses from the values). */
        rule: templateLabelRuleSchema.optional(),
      }),
      /** Tabular templates: the encoded features. Image templates have none. */
      features: z.array(featureSchema),
      /** Image templates: what one sample is; the model's `inputShape` is `[height, width, channels]`. */
      image: imageInputSchema.optional(),
      model: modelSpecSchema,
      defaults: studyConfigSchema,
    })
    .superRefine((t, ctx) => {
      if (t.id !== templateVersionId(templateFamily(t.id), t.version)) {
        ctx.addIssue({ code: 'custom', message: `version ${t.version} of a template is named '${templateVersionId(templateFamily(t.id), t.version)}'`, path: ['id'] });
      }
      const shape = modelInputShape(t.model);
      if (t.image) {
        const { height, width, channels } = t.image;
        if (t.features.length > 0) ctx.addIssue({ code: 'custom', message: 'an image template has no tabular features', path: ['features'] });
        if (shape.join() !== [height, width, channels].join()) {
          ctx.addIssue({ code: 'custom', message: `the model takes [${shape}], the images are [${height},${width},${channels}]`, path: ['model', 'inputShape'] });
        }
      } else {
        if (t.features.length === 0) ctx.addIssue({ code: 'custom', message: 'a tabular template needs at least one feature', path: ['features'] });
        if (shape.length !== 1) ctx.addIssue({ code: 'custom', message: 'a tabular template takes a flat input vector', path: ['model'] });
      }
      const names = new Set<string>();
      t.features.forEach((f, i) => {
        if (names.has(f.name)) ctx.addIssue({ code: 'custom', message: `two features are named '${f.name}'`, path: ['features', i, 'name'] });
        names.add(f.name);
      });
      if (names.has(t.label.name)) ctx.addIssue({ code: 'custom', message: `the label '${t.label.name}' is also a feature's name`, path: ['label', 'name'] });
      const rule = t.label.rule;
      const classCount = t.label.classes?.length ?? 2;
      if (rule?.kind === 'classes' && rule.values.length !== classCount)
        ctx.addIssue({ code: 'custom', message: `the label rule lists ${rule.values.length} classes, the label has ${classCount}`, path: ['label', 'rule'] });
      if (rule && classCount > 2 && (rule.kind === 'compare' || rule.kind === 'match'))
        ctx.addIssue({ code: 'custom', message: `a label of ${classCount} classes is read directly or by each class's values`, path: ['label', 'rule'] });
      if (rule?.kind === 'classes' && classCount === 2) ctx.addIssue({ code: 'custom', message: 'a yes/no label is read directly, by a comparison or by its positive values', path: ['label', 'rule'] });
      const last = t.model.layers[t.model.layers.length - 1];
      if (t.model.loss === 'categoricalCrossentropy' && last.type === 'dense' && t.label.classes?.length !== last.units) {
        ctx.addIssue({ code: 'custom', message: `name each of the ${last.units} classes in label.classes`, path: ['label', 'classes'] });
      }
    }),
);
export type TaskTemplate = z.infer<typeof taskTemplateSchema>;

/** The template a version belongs to: `heart-risk` for `heart-risk@2` and for `heart-risk`. Sites keep their data by it. */
export function templateFamily(id: string): string {
  const at = id.indexOf('@');
  return at < 0 ? id : id.slice(0, at);
}

/** The id of a template's version: the family for version 1, `family@version` after. */
export function templateVersionId(family: string, version: number): string {
  return version === 1 ? family : `${family}@${version}`;
}

/**
 * One patient record as a hospital holds it: feature values by name (null when missing) and the
 * label: 0 or 1 for a binary template, the class index (0, 1, 2, ...) for a multi-class one.
 */
export interface TabularRecord {
  id: string;
  values: Record<string, number | null>;
  label: number;
}
