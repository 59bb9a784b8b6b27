/**
 * The seam for the on-device risk check (issue 7). "Check my risk" currently says it is coming; the lead
 * replaces this with the flow that asks the study's features one at a time and runs the approved model
 * version in a worker, on the device. Until then nothing is asked and nothing is computed.
 */
export const RISK_CHECK_COMING =
  'The on-device risk check is coming soon. It will ask for a few values, such as your age and blood pressure, and work out an estimate inside your browser with the model the hospitals trained together, so your answers never leave your device. Until then, I can answer questions about heart and liver health.';
