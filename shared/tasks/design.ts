import { z, ZodRealError } from 'zod';
import { encodedWidth } from './encoding';
import { parameterCount } from './modelSpec';
import { taskTemplateSchema, templateLabelRuleSchema, templateVersionId, type Feature, type TaskTemplate } from './spec';

/*
 * A tabular study defined without code (issue 20): what a platform admin fills in the console's study
 * designer, stored as data and turned into a task template by `templateFromDesign`. The design is what
 * a person decides (features, their units and ranges, the label and its rule, the model's shape); the
 * template adds what follows from it (encoded width, reference statistics, output layer, defaults).
 */

/** A custom study family: lower-case words joined by dashes (`sepsis-risk`); its versions are `sepsis-risk@2`, ... */
export const designFamilySchema = z
  .string()
  .trim()
  .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'a study id is lower-case letters and digits, words joined by dashes (sepsis-risk)')
  .max(48);

const featureName = z.string().regex(/^[a-z][a-zA-Z0-9_]*$/, 'a feature name starts with a lower-case letter and holds letters, digits and _ only');
const text = z.string().trim().min(1).max(200);
const finite = z.number().finite();

export const designNumericSchema = z
  .object({
    kind: z.literal('numeric'),
    name: featureName,
    label: text,
    unit: z.string().trim().max(40).optional(),
    /** The plausible range: values outside it are kept and flagged at import. */
    min: finite,
    max: finite,
    /** The possible range: values outside it cannot be measurements, their rows are refused. Absent: the plausible range. */
    limits: z.object({ min: finite, max: finite }).optional(),
    integer: z.boolean().default(false),
    /** 0 means "not measured" in exports of this feature (a blood pressure, a cholesterol). */
    cannotBeZero: z.boolean().optional(),
    /** Reference mean and standard deviation; the study's federated normalisation replaces them once sites report. */
    mean: finite.optional(),
    std: z.number().positive().finite().optional(),
  })
  .refine((f) => f.min < f.max, { message: 'the plausible range needs its lowest value below its highest', path: ['max'] })
  .refine((f) => !f.limits || f.limits.min < f.limits.max, { message: 'the possible range needs its lowest value below its highest', path: ['limits'] })
  .refine((f) => !f.limits || (f.limits.min <= f.min && f.limits.max >= f.max), { message: 'the possible range must contain the plausible range', path: ['limits'] });

export const designBinarySchema = z.object({
  kind: z.literal('binary'),
  name: featureName,
  label: text,
  /** What 0 and 1 mean (`['no', 'yes']`, `['female', 'male']`). */
  values: z.tuple([text, text]).default(['no', 'yes']),
  /** The value imputed where it is missing, until the study's statistics say the most frequent one. */
  mode: z.union([z.literal(0), z.literal(1)]).default(0),
});

export const designCategoricalSchema = z
  .object({
    kind: z.literal('categorical'),
    name: featureName,
    label: text,
    categories: z.array(z.object({ code: z.number().int(), label: text })).min(2).max(100),
    /** The code imputed where it is missing; the first category's when absent. */
    mode: z.number().int().optional(),
  })
  .refine((f) => new Set(f.categories.map((c) => c.code)).size === f.categories.length, { message: 'two categories share a code', path: ['categories'] })
  .refine((f) => f.mode === undefined || f.categories.some((c) => c.code === f.mode), { message: 'the imputed code is none of the categories', path: ['mode'] });

export const designFeatureSchema = z.union([designNumericSchema, designBinarySchema, designCategoricalSchema]);
export type DesignFeature = z.input<typeof designFeatureSchema>;

export const designHiddenLayerSchema = z.object({
  units: z.number().int().min(1).max(1024),
  activation: z.enum(['relu', 'tanh']).default('relu'),
});

/** Logistic regression (no hidden layer; softmax regression for several classes) or an MLP of up to 4 hidden layers. */
export const designModelSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('logistic') }),
  z.object({ kind: z.literal('mlp'), hidden: z.array(designHiddenLayerSchema).min(1).max(4) }),
]);
export type DesignModel = z.input<typeof designModelSchema>;

export const studyDesignSchema = z
  .object({
    family: designFamilySchema,
    name: text,
    description: z.string().trim().max(2000).default(''),
    features: z.array(designFeatureSchema).min(1).max(256),
    label: z.object({
      /** The label column's name in the sites' exports. */
      name: featureName,
      description: text,
      positive: text,
      negative: text,
      /** Three or more classes make a multi-class study (class k is the k-th name). */
      classes: z.array(text).min(3).max(20).optional(),
      rule: templateLabelRuleSchema.optional(),
    }),
    model: designModelSchema,
    /**
     * One more input per feature, 1 where its value was missing and imputed: real exports have gaps,
     * and a model that can tell an imputed value from a measured one is not misled by them.
     */
    missingIndicators: z.boolean().default(true),
    /** Round 1's seed, epochs, batch size... The New study form can still change them per study. */
    defaults: z
      .object({
        rounds: z.number().int().min(1).max(1000).optional(),
        minParticipants: z.number().int().min(1).max(10_000).optional(),
        localEpochs: z.number().int().min(1).max(100).optional(),
        batchSize: z.number().int().min(1).max(4096).optional(),
        learningRate: z.number().positive().max(10).optional(),
      })
      .default({}),
  })
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    d.features.forEach((f, i) => {
      if (seen.has(f.name)) ctx.addIssue({ code: 'custom', message: `two features are named '${f.name}'`, path: ['features', i, 'name'] });
      seen.add(f.name);
    });
    if (seen.has(d.label.name)) ctx.addIssue({ code: 'custom', message: `the label '${d.label.name}' is also a feature`, path: ['label', 'name'] });
  });
export type StudyDesign = z.output<typeof studyDesignSchema>;
export type StudyDesignInput = z.input<typeof studyDesignSchema>;

/**
 * The largest model a design may ask for: a tabular MLP needs far fewer (the built-in ones have
 * 385–3,000), and under this every custom model fits the upload limit the built-in ResNet sets.
 */
export const MAX_DESIGN_PARAMETERS = 500_000;

/** What a custom study trains with unless its study says otherwise (the built-in tabular templates' choices). */
const BASE_DEFAULTS = {
  rounds: 10,
  minParticipants: 2,
  roundDeadlineMs: 120_000,
  localEpochs: 2,
  batchSize: 32,
  learningRate: 0.01,
  validationFraction: 0.2,
  seed: 2026,
};

/** A flat feature of the template: reference statistics from the range where the design gives none (a range is about ±2 SD). */
function templateFeature(f: z.output<typeof designFeatureSchema>): Feature {
  switch (f.kind) {
    case 'numeric': {
      const { kind, name, label, unit, min, max, limits, integer, cannotBeZero } = f;
      return {
        kind,
        name,
        label,
        ...(unit ? { unit } : {}),
        min,
        max,
        ...(limits ? { limits } : {}),
        ...(cannotBeZero ? { cannotBeZero } : {}),
        integer,
        mean: f.mean ?? (min + max) / 2,
        std: f.std ?? (max - min) / 4,
      };
    }
    case 'binary':
      return { kind: 'binary', name: f.name, label: f.label, values: f.values, mode: f.mode };
    case 'categorical':
      return { kind: 'categorical', name: f.name, label: f.label, categories: f.categories, mode: f.mode ?? f.categories[0].code };
  }
}

/**
 * The task template of a design's `version`: `family` for version 1, `family@N` after. Throws a
 * ZodError naming the field when the design does not make a valid template.
 */
export function templateFromDesign(input: StudyDesignInput, version = 1, changes?: string): TaskTemplate {
  const d = studyDesignSchema.parse(input);
  const plain = d.features.map(templateFeature);
  const features = d.missingIndicators ? plain.map((f) => ({ ...f, missingIndicator: true })) : plain;
  const classes = d.label.classes;
  const output = classes ? { type: 'dense', units: classes.length, activation: 'softmax' } : { type: 'dense', units: 1, activation: 'sigmoid' };
  const hidden = d.model.kind === 'mlp' ? d.model.hidden.map((h) => ({ type: 'dense', units: h.units, activation: h.activation })) : [];
  const template = taskTemplateSchema.parse({
    id: templateVersionId(d.family, version),
    version,
    ...(changes ? { changes } : {}),
    name: d.name,
    description: d.description || `${d.name}: ${classes ? `${classes.length} classes` : `${d.label.positive} or ${d.label.negative}`}, from ${d.features.length} features.`,
    label: {
      name: d.label.name,
      description: d.label.description,
      positive: d.label.positive,
      negative: d.label.negative,
      ...(classes ? { classes } : {}),
      ...(d.label.rule ? { rule: d.label.rule } : {}),
    },
    features,
    model: {
      inputDim: encodedWidth(features),
      layers: [...hidden, output],
      loss: classes ? 'categoricalCrossentropy' : 'binaryCrossentropy',
      optimizer: 'adam',
    },
    defaults: { ...BASE_DEFAULTS, ...d.defaults },
  });
  const count = parameterCount(template.model);
  if (count > MAX_DESIGN_PARAMETERS)
    // ZodRealError, not ZodError: zod 4's ZodError is not an Error (HTTP error handlers would miss it).
    throw new ZodRealError([{ code: 'custom', path: ['model'], input: d.model, message: `the model has ${count.toLocaleString('en')} parameters; a study's model has at most ${MAX_DESIGN_PARAMETERS.toLocaleString('en')}: fewer or narrower hidden layers` }]);
  return template;
}

/** The number of weights the design's model trains (what the designer shows as it changes). */
export function designParameterCount(input: StudyDesignInput): number {
  return parameterCount(templateFromDesign(input).model);
}

/**
 * Why a new version of a family cannot be made from `next`: versions share the data sites imported
 * (kept by family), so the features (names, kinds, codes) and the label's classes must stay.
 */
export function versionIncompatibility(previous: TaskTemplate, next: TaskTemplate): string | null {
  const shape = (t: TaskTemplate) =>
    JSON.stringify({
      features: t.features.map((f) => [f.name, f.kind, f.kind === 'categorical' ? f.categories.map((c) => c.code) : null]),
      label: [t.label.name, t.label.classes?.length ?? 2],
    });
  if (shape(previous) === shape(next)) return null;
  return `a new version of '${previous.id.split('@')[0]}' keeps its features and label (sites' imported data serves every version): save it as a new study id instead`;
}
