import { ZodError } from 'zod';
import { studyDesignSchema, templateFromDesign, type DesignFeature, type StudyDesignInput } from '../../../shared/tasks/design';
import { parseCodes } from '../../../shared/tasks/dictionary';
import { parameterCount } from '../../../shared/tasks/modelSpec';
import type { TaskTemplate, TemplateLabelRule } from '../../../shared/tasks/spec';

/*
 * The study designer's form state and what it becomes: inputs hold text as typed (a half-written
 * "1." or "-" must stay in the box), and `checkForm` turns the whole form into a StudyDesign, checks
 * it with the same schema and template builder the server uses, and says what is wrong in words.
 */

export type FeatureKind = 'numeric' | 'binary' | 'categorical';

export interface FeatureRow {
  /** React's key: stays with the row when rows above it are removed. */
  key: number;
  kind: FeatureKind;
  name: string;
  label: string;
  unit: string;
  min: string;
  max: string;
  limitsMin: string;
  limitsMax: string;
  integer: boolean;
  /** Binary: what 0 and 1 mean. */
  value0: string;
  value1: string;
  /** Categorical: `1=a; 2=b`. */
  codes: string;
  /** What the source gave that the table does not edit (reference statistics, imputed values): carried through as is. */
  kept: { mean?: number; std?: number; cannotBeZero?: boolean; binaryMode?: 0 | 1; categoricalMode?: number };
}

export interface ClassRow {
  name: string;
  /** The texts (or numbers) in the label column that mean this class, comma-separated (the `classes` rule). */
  values: string;
}

export type RuleKind = 'none' | 'direct' | 'compare' | 'match' | 'classes';
export type CompareOp = '>' | '>=' | '<' | '<=' | '==' | '!=';

export interface LabelForm {
  name: string;
  description: string;
  positive: string;
  negative: string;
  multiclass: boolean;
  classes: ClassRow[];
  rule: RuleKind;
  op: CompareOp;
  value: string;
  positiveValues: string;
  negativeValues: string;
}

export interface LayerRow {
  units: string;
  activation: 'relu' | 'tanh';
}

export interface DesignForm {
  family: string;
  name: string;
  description: string;
  features: FeatureRow[];
  label: LabelForm;
  model: { kind: 'logistic' | 'mlp'; hidden: LayerRow[] };
  missingIndicators: boolean;
  defaults: { rounds: string; minParticipants: string; localEpochs: string };
  /** Defaults the form does not show (batch size, learning rate), kept from the source. */
  keptDefaults: { batchSize?: number; learningRate?: number };
}

export const MAX_LAYERS = 4;
export const RULES_BINARY: RuleKind[] = ['none', 'direct', 'compare', 'match'];
export const RULES_MULTICLASS: RuleKind[] = ['none', 'direct', 'classes'];

let nextKey = 1;

export function emptyFeature(kind: FeatureKind = 'numeric'): FeatureRow {
  return { key: nextKey++, kind, name: '', label: '', unit: '', min: '', max: '', limitsMin: '', limitsMax: '', integer: false, value0: 'no', value1: 'yes', codes: '', kept: {} };
}

export function emptyForm(): DesignForm {
  return {
    family: '',
    name: '',
    description: '',
    features: [emptyFeature()],
    label: { name: '', description: '', positive: '', negative: '', multiclass: false, classes: [], rule: 'none', op: '>', value: '0', positiveValues: '', negativeValues: '' },
    model: { kind: 'logistic', hidden: [{ units: '16', activation: 'relu' }] },
    missingIndicators: true,
    defaults: { rounds: '', minParticipants: '', localEpochs: '' },
    keptDefaults: {},
  };
}

const text = (n: number | undefined) => (n === undefined ? '' : String(n));

/** `1=typical angina; 2=atypical angina`: what the codes box shows for a feature's categories. */
export function codesText(categories: readonly { code: number; label: string }[]): string {
  return categories.map((c) => `${c.code}=${c.label}`).join('; ');
}

/** `yes, 1, Y` → ['yes', '1', 'Y']: a list of label values as typed in one box. */
export function parseList(value: string): string[] {
  return value
    .split(/[,;\n]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A number as typed (`1.5`, `1,5`, ` -3 `); '' is absent; anything else is not a number. */
export function parseNumberText(value: string): number | undefined | 'invalid' {
  const s = value.trim();
  if (s === '') return undefined;
  const n = Number(/^[+-]?\d*,\d+$/.test(s) ? s.replace(',', '.') : s);
  return Number.isFinite(n) ? n : 'invalid';
}

export function featureRow(f: DesignFeature): FeatureRow {
  const row = emptyFeature(f.kind);
  row.name = f.name;
  row.label = f.label;
  switch (f.kind) {
    case 'numeric':
      return {
        ...row,
        unit: f.unit ?? '',
        min: text(f.min),
        max: text(f.max),
        limitsMin: text(f.limits?.min),
        limitsMax: text(f.limits?.max),
        integer: f.integer ?? false,
        kept: { mean: f.mean, std: f.std, cannotBeZero: f.cannotBeZero },
      };
    case 'binary':
      return { ...row, value0: f.values?.[0] ?? 'no', value1: f.values?.[1] ?? 'yes', kept: { binaryMode: f.mode } };
    case 'categorical':
      return { ...row, codes: codesText(f.categories), kept: { categoricalMode: f.mode } };
  }
}

/** The form for a design (a dictionary's, a site's columns', or an existing template's, for its next version). */
export function formFromDesign(d: Partial<StudyDesignInput>): DesignForm {
  const base = emptyForm();
  const l = d.label;
  const rule = l?.rule;
  const classes = l?.classes;
  const label: LabelForm = l
    ? {
        ...base.label,
        name: l.name,
        description: l.description,
        positive: l.positive,
        negative: l.negative,
        multiclass: !!classes,
        classes: (classes ?? []).map((name, k) => ({ name, values: rule?.kind === 'classes' ? (rule.values[k] ?? []).join(', ') : '' })),
        rule: rule?.kind ?? 'none',
        ...(rule?.kind === 'compare' ? { op: rule.op, value: String(rule.value) } : {}),
        ...(rule?.kind === 'match' ? { positiveValues: rule.positive.join(', '), negativeValues: (rule.negative ?? []).join(', ') } : {}),
      }
    : base.label;
  const defaults = d.defaults ?? {};
  return {
    family: d.family ?? '',
    name: d.name ?? '',
    description: d.description ?? '',
    features: d.features?.length ? d.features.map(featureRow) : base.features,
    label,
    model: d.model?.kind === 'mlp' ? { kind: 'mlp', hidden: d.model.hidden.map((h) => ({ units: String(h.units), activation: h.activation ?? 'relu' })) } : base.model,
    missingIndicators: d.missingIndicators ?? true,
    defaults: { rounds: text(defaults.rounds), minParticipants: text(defaults.minParticipants), localEpochs: text(defaults.localEpochs) },
    keptDefaults: {
      ...(defaults.batchSize !== undefined ? { batchSize: defaults.batchSize } : {}),
      ...(defaults.learningRate !== undefined ? { learningRate: defaults.learningRate } : {}),
    },
  };
}

/** A problem with the form, by the design's path (`features.2.min`), in plain words. */
export interface DesignIssue {
  path: (string | number)[];
  message: string;
}

export const pathKey = (path: readonly PropertyKey[]) => path.map(String).join('.');

/** The design the form says, and what could not even be read from it (a number that is not one, codes that are not `code=meaning`). */
export function designFromForm(form: DesignForm): { design: StudyDesignInput; problems: DesignIssue[] } {
  const problems: DesignIssue[] = [];
  const num = (value: string, path: (string | number)[], required: boolean): number | undefined => {
    const n = parseNumberText(value);
    if (n === 'invalid') problems.push({ path, message: `“${value.trim()}” is not a number` });
    else if (n === undefined && required) problems.push({ path, message: 'enter a number' });
    return n === 'invalid' ? undefined : n;
  };

  const features = form.features.map((row, i): DesignFeature => {
    const at = (field: string) => ['features', i, field];
    const name = row.name.trim();
    const label = row.label.trim();
    switch (row.kind) {
      case 'numeric': {
        const lo = num(row.limitsMin, at('limits'), false);
        const hi = num(row.limitsMax, at('limits'), false);
        if ((lo === undefined) !== (hi === undefined) && parseNumberText(row.limitsMin) !== 'invalid' && parseNumberText(row.limitsMax) !== 'invalid') {
          problems.push({ path: at('limits'), message: 'give both ends of the possible range, or neither' });
        }
        const { mean, std, cannotBeZero } = row.kept;
        const unit = row.unit.trim();
        return {
          kind: 'numeric',
          name,
          label,
          ...(unit ? { unit } : {}),
          min: num(row.min, at('min'), true) as number,
          max: num(row.max, at('max'), true) as number,
          ...(lo !== undefined && hi !== undefined ? { limits: { min: lo, max: hi } } : {}),
          integer: row.integer,
          ...(mean !== undefined ? { mean } : {}),
          ...(std !== undefined ? { std } : {}),
          ...(cannotBeZero ? { cannotBeZero } : {}),
        };
      }
      case 'binary':
        return { kind: 'binary', name, label, values: [row.value0.trim(), row.value1.trim()], ...(row.kept.binaryMode !== undefined ? { mode: row.kept.binaryMode } : {}) };
      case 'categorical': {
        const parsed = row.codes.trim() ? parseCodes(row.codes) : [];
        if ('error' in parsed) problems.push({ path: at('categories'), message: parsed.error });
        else if (parsed.length < 2) problems.push({ path: at('categories'), message: 'list at least two codes (1=first; 2=second)' });
        const categories = 'error' in parsed ? [] : parsed;
        const mode = row.kept.categoricalMode;
        // An imputed code that the edited codes no longer hold would be refused: fall back to the first category.
        return { kind: 'categorical', name, label, categories, ...(mode !== undefined && categories.some((c) => c.code === mode) ? { mode } : {}) };
      }
    }
  });

  const l = form.label;
  const classes = l.multiclass ? l.classes.map((c) => c.name.trim()) : undefined;
  let rule: TemplateLabelRule | undefined;
  switch (l.rule) {
    case 'direct':
      rule = { kind: 'direct' };
      break;
    case 'compare':
      rule = { kind: 'compare', op: l.op, value: num(l.value, ['label', 'rule', 'value'], true) as number };
      break;
    case 'match': {
      const positive = parseList(l.positiveValues);
      const negative = parseList(l.negativeValues);
      if (positive.length === 0) problems.push({ path: ['label', 'rule', 'positive'], message: 'list the values that mean positive' });
      rule = { kind: 'match', positive, ...(negative.length ? { negative } : {}) };
      break;
    }
    case 'classes': {
      const values = l.classes.map((c) => parseList(c.values));
      values.forEach((v, k) => {
        if (v.length === 0) problems.push({ path: ['label', 'rule', 'values', k], message: 'list the values that mean this class' });
      });
      rule = { kind: 'classes', values };
      break;
    }
  }

  const defaults = {
    ...form.keptDefaults,
    ...Object.fromEntries(
      (['rounds', 'minParticipants', 'localEpochs'] as const).flatMap((k) => {
        const n = num(form.defaults[k], ['defaults', k], false);
        return n === undefined ? [] : [[k, n]];
      }),
    ),
  };

  const design: StudyDesignInput = {
    family: form.family.trim(),
    name: form.name.trim(),
    description: form.description.trim(),
    features,
    label: {
      name: l.name.trim(),
      description: l.description.trim(),
      // A multi-class study names its classes; the yes/no meanings are the last and first class, as a dictionary gives them.
      positive: classes ? classes[classes.length - 1] || 'last class' : l.positive.trim(),
      negative: classes ? classes[0] || 'first class' : l.negative.trim(),
      ...(classes ? { classes } : {}),
      ...(rule ? { rule } : {}),
    },
    model:
      form.model.kind === 'mlp'
        ? { kind: 'mlp', hidden: form.model.hidden.map((h, k) => ({ units: num(h.units, ['model', 'hidden', k, 'units'], true) as number, activation: h.activation })) }
        : { kind: 'logistic' },
    missingIndicators: form.missingIndicators,
    defaults,
  };
  return { design, problems };
}

interface LooseIssue {
  code?: string;
  path: PropertyKey[];
  message: string;
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  expected?: string;
  received?: string;
  errors?: LooseIssue[][];
}

/**
 * Zod's issues, with a union's (a feature of some kind) replaced by the issues of the kind the
 * feature says it is, so that a numeric feature's problem reads as one, not as "Invalid input".
 */
export function flattenIssues(issues: readonly LooseIssue[], prefix: PropertyKey[] = []): LooseIssue[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors?.length) {
      const wrongKind = (branch: LooseIssue[]) => branch.some((b) => b.code === 'invalid_value' && pathKey(b.path) === 'kind');
      const branch = issue.errors.find((b) => !wrongKind(b)) ?? [...issue.errors].sort((a, b) => a.length - b.length)[0];
      return flattenIssues(branch, path);
    }
    return [{ ...issue, path }];
  });
}

/** Zod's message in a sentence a person reads (the schema's own messages are already such). */
export function plainMessage(issue: LooseIssue): string {
  const n = issue.minimum ?? issue.maximum;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'int') return 'a whole number is needed';
      if (issue.expected === 'number') return 'enter a number';
      return 'required';
    case 'too_small':
      if (issue.origin === 'string') return 'cannot be empty';
      if (issue.origin === 'array') return `needs at least ${n}`;
      return issue.inclusive === false ? `must be above ${n}` : `must be at least ${n}`;
    case 'too_big':
      if (issue.origin === 'string') return `at most ${n} characters`;
      if (issue.origin === 'array') return `at most ${n}`;
      return issue.inclusive === false ? `must be below ${n}` : `must be at most ${n}`;
    case 'invalid_format':
      return issue.message.startsWith('Invalid') ? 'has the wrong format' : issue.message;
    default:
      return issue.message;
  }
}

const FIELD: Record<string, string> = {
  family: 'Study id',
  name: 'name',
  label: 'label',
  description: 'description',
  unit: 'unit',
  min: 'plausible min',
  max: 'plausible max',
  limits: 'possible range',
  integer: 'integer',
  values: 'values',
  categories: 'codes',
  mode: 'imputed value',
  positive: 'positive meaning',
  negative: 'negative meaning',
  classes: 'classes',
  rule: 'rule',
  units: 'units',
  rounds: 'rounds',
  minParticipants: 'min sites',
  localEpochs: 'local epochs',
  batchSize: 'batch size',
  learningRate: 'learning rate',
};

/** Where an issue is, as the form shows it: `Feature 3 (creatinine) · plausible min`, `Label · description`. */
export function describePath(path: readonly PropertyKey[], form: DesignForm): string {
  const [head, second, third, fourth] = path;
  const field = (p: PropertyKey | undefined) => (p === undefined ? '' : (FIELD[String(p)] ?? String(p)));
  if (head === 'family') return 'Study id';
  if (head === 'name' || head === 'description') return `Study ${field(head)}`;
  if (head === 'features') {
    if (typeof second !== 'number') return 'Features';
    const name = form.features[second]?.name.trim();
    const where = `Feature ${second + 1}${name ? ` (${name})` : ''}`;
    return third === undefined ? where : `${where} · ${field(third)}`;
  }
  if (head === 'label') {
    if (second === 'classes' && typeof third === 'number') return `Label · class ${third + 1}`;
    if (second === 'rule') {
      if (third === 'values' && typeof fourth === 'number') return `Label rule · values of class ${fourth + 1}`;
      return third === 'positive' ? 'Label rule · positive values' : third === 'negative' ? 'Label rule · negative values' : third === 'value' ? 'Label rule · value' : 'Label rule';
    }
    return second === undefined ? 'Label' : `Label · ${second === 'name' ? 'column name' : field(second)}`;
  }
  if (head === 'model') {
    if (second === 'hidden' && typeof third === 'number') return `Hidden layer ${third + 1}${fourth === undefined ? '' : ` · ${field(fourth)}`}`;
    return second === 'hidden' ? 'Hidden layers' : 'Model';
  }
  if (head === 'defaults') return `Defaults · ${field(second)}`;
  if (head === 'template') return `Template${path.length > 1 ? ` · ${path.slice(1).map(String).join('.')}` : ''}`;
  return path.map(String).join('.') || 'Study';
}

const SECTION_ORDER = ['family', 'name', 'description', 'features', 'label', 'model', 'missingIndicators', 'defaults', 'template'];

/** Issues in the order the form shows their fields (the sort is stable: within a field, as found). */
function byFormOrder(a: DesignIssue, b: DesignIssue): number {
  const rank = (i: DesignIssue) => {
    const at = SECTION_ORDER.indexOf(String(i.path[0]));
    return at < 0 ? SECTION_ORDER.length : at;
  };
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  const [ia, ib] = [a.path[1], b.path[1]];
  return typeof ia === 'number' && typeof ib === 'number' ? ia - ib : 0;
}

export interface FormCheck {
  design: StudyDesignInput;
  /** Empty when the design makes a template. */
  issues: DesignIssue[];
  template: TaskTemplate | null;
  parameters: number | null;
  /** The encoded input width: one column per numeric or binary feature, one per category, one per missing indicator. */
  inputWidth: number | null;
}

/** The whole form checked as the server will: the design's schema, then the template made from it. */
export function checkForm(form: DesignForm): FormCheck {
  const { design, problems } = designFromForm(form);
  const issues: DesignIssue[] = [...problems];
  const seen = new Set(problems.map((p) => pathKey(p.path)));
  const parsed = studyDesignSchema.safeParse(design);
  if (!parsed.success) {
    for (const issue of flattenIssues(parsed.error.issues as LooseIssue[])) {
      const key = pathKey(issue.path);
      // What the form already said about a field (a number that is not one) is not said twice.
      if ([...seen].some((s) => key === s || key.startsWith(`${s}.`))) continue;
      seen.add(key);
      issues.push({ path: issue.path.map((p) => (typeof p === 'number' ? p : String(p))), message: plainMessage(issue) });
    }
  }
  let template: TaskTemplate | null = null;
  if (issues.length === 0) {
    try {
      template = templateFromDesign(design);
    } catch (e) {
      if (e instanceof ZodError) {
        for (const issue of flattenIssues(e.issues as LooseIssue[])) issues.push({ path: ['template', ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))], message: plainMessage(issue) });
      } else issues.push({ path: ['template'], message: e instanceof Error ? e.message : String(e) });
    }
  }
  issues.sort(byFormOrder);
  return { design, issues, template, parameters: template ? parameterCount(template.model) : null, inputWidth: template?.model.inputDim ?? null };
}

/** The paths (as keys) the check found wrong, for marking inputs invalid. */
export function invalidKeys(issues: readonly DesignIssue[]): Set<string> {
  return new Set(issues.map((i) => pathKey(i.path)));
}

// Edits: each returns a new form, so that React sees the change.

export function updateFeature(form: DesignForm, key: number, patch: Partial<Omit<FeatureRow, 'key'>>): DesignForm {
  return { ...form, features: form.features.map((f) => (f.key === key ? { ...f, ...patch } : f)) };
}

export function addFeature(form: DesignForm): DesignForm {
  return { ...form, features: [...form.features, emptyFeature()] };
}

export function removeFeature(form: DesignForm, key: number): DesignForm {
  return { ...form, features: form.features.filter((f) => f.key !== key) };
}

export function updateLabel(form: DesignForm, patch: Partial<LabelForm>): DesignForm {
  const label = { ...form.label, ...patch };
  if (patch.multiclass !== undefined && patch.multiclass !== form.label.multiclass) {
    // Switching to several classes starts them from the yes/no meanings; rules that only make sense for the other kind are dropped.
    if (label.multiclass && label.classes.length < 3) {
      const seed = [label.negative, label.positive].filter(Boolean);
      label.classes = [...seed, '', '', ''].slice(0, Math.max(3, seed.length)).map((name) => ({ name, values: '' }));
    }
    const allowed = label.multiclass ? RULES_MULTICLASS : RULES_BINARY;
    if (!allowed.includes(label.rule)) label.rule = 'none';
  }
  return { ...form, label };
}
