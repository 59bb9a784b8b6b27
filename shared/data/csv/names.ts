import type { TaskTemplate } from '../../tasks/spec';

/** Case, spaces, underscores, dashes and dots do not tell column names apart: `Resting BP` is `resting_bp`. */
export const normaliseName = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, '');

/**
 * Other names public datasets and hospital exports use for a feature (UCI Cleveland, Kaggle heart
 * datasets, hospital exports); matched after `normaliseName`. The feature's own name and label
 * always match.
 */
const FEATURE_SYNONYMS: Record<string, string[]> = {
  age: ['ageyears', 'patientage'],
  sex: ['gender', 'sexmale', 'male01'],
  cp: ['chestpain', 'chestpaintype', 'cptype'],
  trestbps: ['restingbp', 'restingbloodpressure', 'bloodpressure', 'restbp', 'sbp', 'trestbp'],
  chol: ['cholesterol', 'serumcholesterol', 'totalcholesterol', 'cholesterolmgdl'],
  fbs: ['fastingbs', 'fastingbloodsugar', 'fastingglucose120'],
  restecg: ['restingecg', 'ecg', 'restecgresult'],
  thalach: ['thalch', 'maxhr', 'maxheartrate', 'maximumheartrate', 'maxheartrateachieved', 'hrmax'],
  exang: ['exerciseangina', 'exerciseinducedangina', 'exang01'],
  oldpeak: ['stdepression', 'oldpeakmm'],
  slope: ['stslope', 'slopeofst', 'stsegmentslope'],
  ca: ['vessels', 'majorvessels', 'nmajorvessels', 'numvessels', 'ca0to3'],
  thal: ['thalassemia', 'thalium', 'thallium', 'thalscan'],
};

/** Names of the label column in common exports, most specific first. */
const LABEL_SYNONYMS = ['target', 'num', 'label', 'diagnosis', 'outcome', 'class', 'disease', 'heartdisease', 'category', 'y'];

export function featureAliases(template: TaskTemplate, feature: string): Set<string> {
  const f = template.features.find((x) => x.name === feature);
  const names = new Set<string>([normaliseName(feature), ...(FEATURE_SYNONYMS[feature] ?? [])]);
  if (f) names.add(normaliseName(f.label));
  return names;
}

export function labelNames(template: TaskTemplate): string[] {
  return [normaliseName(template.label.name), ...LABEL_SYNONYMS.filter((n) => n !== normaliseName(template.label.name))];
}

export function isKnownColumnName(template: TaskTemplate, cell: string): boolean {
  const n = normaliseName(cell);
  if (n === '') return false;
  return labelNames(template).includes(n) || template.features.some((f) => featureAliases(template, f.name).has(n));
}
