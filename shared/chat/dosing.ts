import { normalise } from './text';

/** Medicine names: the common ones by name, the rest by the suffix of their drug class. */
const MEDICINE =
  '(?:medicines?|medications?|meds|tablets?|pills?|capsules?|drugs?|insulin|aspirin|paracetamol|acetaminophen|ibuprofen|warfarin|metformin|nitroglycerin|gtn|nicotine patch(?:es)?|[a-z]+statins?|[a-z]+(?:pril|sartan|olol|dipine|thiazide|semide|gliptin|gliflozin|glutide|buvir|asvir|previr))';
const PERSON = '(?:i|he|she|we|you|they|my (?:mum|mom|dad|husband|wife|partner|child|son|daughter))';

const DOSING = new RegExp(
  [
    `\\b(?:dose|doses|dosage|dosages|dosing|overdose on)\\b`,
    `\\bhow (?:many|much) (?:mg|milligrams?|micrograms?|mcg|units?|ml|millilitres?|puffs?|tablets?|pills?|capsules?)\\b`,
    `\\bhow (?:much|many) (?:of (?:my |the |this |that )?)?${MEDICINE}(?: [a-z]+)? (?:should|do|can|could|must|may|would) ${PERSON} (?:take|have|use|give|need|get)\\b`,
    `\\bhow (?:much|many) ${MEDICINE} (?:do|does|should) ${PERSON} need\\b`,
    `\\b\\d+(?:\\.\\d+)? ?(?:mg|mcg|micrograms?|milligrams?|units|ml)\\b`,
    `\\b(?:double|increase|decrease|reduce|halve|skip|change|raise|lower|up) (?:my|his|her|the|our|their) (?:[a-z]+ ){0,2}(?:dose|dosage|${MEDICINE})\\b`,
    `\\b(?:can|should|may|could) (?:i|he|she|we) take (?:more|extra|another|two|double|less|an extra)\\b`,
    `\\bhow often (?:should|do|can|must) ${PERSON} take\\b`,
    `\\b(?:maximum|max|highest|safe) (?:dose|amount|daily amount)\\b`,
  ].join('|'),
);

/** Whether a message asks how much of a medicine to take, or to change a dose: never answered here. */
export function asksForDosing(message: string): boolean {
  return DOSING.test(normalise(message));
}
