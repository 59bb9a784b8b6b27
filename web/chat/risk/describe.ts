import type { Feature } from '../../../shared/tasks';
import { formatNumber } from './questions';

/** A value as the patient reads it: `171 beats/min`, `2.7 mm`, `typical angina`, `male`. */
export function valueText(feature: Feature, value: number): string {
  if (feature.kind === 'numeric') {
    const digits = feature.integer ? 0 : 1;
    return `${formatNumber(value, digits)}${feature.unit ? ` ${feature.unit}` : ''}`;
  }
  if (feature.kind === 'binary') return feature.values[value === 1 ? 1 : 0];
  return feature.categories.find((c) => c.code === value)?.label ?? String(value);
}

/** The study's typical value of a feature (its mean or mode), which a "don't know" answer takes. */
export function typicalValue(feature: Feature): number {
  return feature.kind === 'numeric' ? feature.mean : feature.mode;
}

export function typicalText(feature: Feature): string {
  return valueText(feature, typicalValue(feature));
}
