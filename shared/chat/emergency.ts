import { normalise } from './text';

/**
 * Emergency detection: runs before anything else, on every message.
 *
 * The rule, per mention of an emergency sign:
 *
 *   it counts  ⇔  not negated  ∧  not long past  ∧  (its clause is about someone now  ∨  the message is not a
 *   general question)
 *
 * - Negated: a negation word ("no", "not", "never", "without", "denies"…) stands before the sign in the same
 *   clause, with no new subject in between ("I do not smoke and I have chest pain" is not negated). "Not sure"
 *   and "do not know" express doubt, not absence, and do not negate. Phrases that contain their own negation
 *   ("cannot breathe", "will not stop bleeding", "do not want to live") are signs, not negations.
 * - Long past: the clause says "years ago", "in the past", "history of", "as a child", a year, "used to"…
 *   Recent times ("an hour ago", "yesterday", "last night") do not excuse a sign: they still need urgent care.
 * - About someone now: "I", "he", "she", "they" with a present verb, a possessive ("my chest", "his face"),
 *   or words such as "right now", "suddenly", "help".
 * - General question: "what causes…", "what are the signs of…", "in general", "if someone…". A general
 *   question that mentions signs is information-seeking; the same question asked about "my face" is not.
 *
 * Chest pain on its own is not enough (NHS: it has many causes); it needs a companion sign (breathlessness,
 * sweating, pain spreading to the arm, jaw, neck or back, nausea, light-headedness) or words that make it severe.
 * When in doubt between two readings the rules lean to urgent: a needless "call for help" costs less than a
 * missed one.
 */

export type EmergencyKind = 'heart' | 'stroke' | 'suicide' | 'bleeding' | 'anaphylaxis' | 'unconscious' | 'breathing';

export interface EmergencyMatch {
  kind: EmergencyKind;
  /** The words that triggered it, for logs and tests. */
  evidence: string[];
}

interface Sign {
  id: string;
  kind: EmergencyKind;
  re: RegExp;
  /** Counts only together with one of these signs (by id); `undefined` means it counts alone. */
  needs?: string[];
}

const POSS = '(?:my|his|her|their|your|the|our)';
const PERSON_OBJ = '(?:myself|himself|herself|themselves|yourself|ourselves)';

const SIGNS: Sign[] = [
  // Heart.
  {
    id: 'chest',
    kind: 'heart',
    re: new RegExp(
      [
        `chest (?:pains?|discomfort|pressure|tightness|heaviness|aches?|hurts?|hurting|is hurting)`,
        `(?:pain|pressure|tightness|heaviness|ache) (?:in|across|on) ${POSS} chest`,
        `(?:tight|heavy|crushing|squeezing|painful|sore) chest`,
        `chest (?:is|feels|felt) (?:tight|heavy|crushed|painful|sore|like)`,
      ].join('|'),
    ),
    needs: ['breathless', 'sweat', 'radiating', 'nausea', 'dizzy'],
  },
  {
    id: 'severe-chest',
    kind: 'heart',
    re: new RegExp(
      [
        `(?:crushing|severe|terrible|excruciating|unbearable|worst|really bad|very bad) (?:chest pains?|pain in ${POSS} chest)`,
        `chest pains? (?:that )?(?:will not|is not|does not|has not) (?:go|going|gone) away`,
        `chest pains? for (?:over |more than )?(?:15|fifteen|twenty|20|30|thirty) minutes`,
        `chest pains? for (?:over |more than |about )?(?:an|half an|one) hour`,
      ].join('|'),
    ),
  },
  {
    id: 'heart-attack-now',
    kind: 'heart',
    re: /(?:am|is|are|be|been|currently|now) having (?:a )?heart attack|think (?:i am|he is|she is|they are|it is|this is|i may be|i might be) (?:having )?(?:a )?heart attack|heart attack (?:right )?now/,
  },
  {
    id: 'breathless',
    kind: 'heart',
    re: /short(?:ness)? of breath|breathless|out of breath|(?:cannot|could not|struggling to|hard to|difficult to|trouble|difficulty) (?:breathe|breathing|catch (?:my|his|her) breath)|gasping/,
    needs: ['chest', 'severe-chest', 'palpitations'],
  },
  { id: 'sweat', kind: 'heart', re: /sweat(?:ing|y|s)?\b|clammy|perspiring/, needs: ['chest'] },
  {
    id: 'radiating',
    kind: 'heart',
    re: new RegExp(
      `(?:spread(?:s|ing)?|radiat(?:es|ing)|going|goes|moving|moves|shooting|travel(?:s|ling|ing)?) (?:down|to|into|up|through) (?:${POSS} )?(?:left |right )?(?:arms?|jaw|neck|back|shoulders?)|(?:left )?(?:arm|jaw|neck) (?:pain|hurts|aches?|is numb|numb|tingling)`,
    ),
    needs: ['chest'],
  },
  { id: 'nausea', kind: 'heart', re: /nause(?:a|ous)|feel(?:ing)? sick|vomiting|throwing up|being sick/, needs: ['chest'] },
  { id: 'dizzy', kind: 'heart', re: /dizzy|light-? ?headed|faint(?:ing)?\b|about to pass out/, needs: ['chest', 'palpitations'] },
  // Palpitations alone are common and usually harmless (NHS); with fainting, breathlessness or chest pain they are not.
  {
    id: 'palpitations',
    kind: 'heart',
    re: /heart (?:is |keeps )?(?:racing|pounding|fluttering|beating (?:very |really )?fast)|palpitations/,
    needs: ['dizzy', 'breathless', 'chest'],
  },

  // Stroke: the FAST signs (face, arms, speech), sudden confusion, sudden severe headache or loss of sight.
  {
    id: 'face',
    kind: 'stroke',
    re: new RegExp(
      `(?:face|mouth|smile|eye|eyelid) (?:is |has |was |looks |seems )?(?:drooping|droopy|dropped|dropping|lopsided|sagging|fallen)|(?:drooping|droopy|lopsided) (?:face|mouth|smile)|one side of ${POSS} face|face (?:is |has gone |went |feels )?numb on one side`,
    ),
  },
  {
    id: 'arm-strong',
    kind: 'stroke',
    re: new RegExp(
      `(?:cannot|could not|unable to) (?:lift|raise|move) (?:${POSS} )?(?:left |right )?(?:arms?|legs?|hand)|one side of ${POSS} body (?:is |has gone |went |feels )?(?:weak|numb|paralysed|paralyzed|limp|dead)|sudden(?:ly)? (?:weak|numb|paralysed|paralyzed)|sudden (?:weakness|numbness)|(?:arm|leg|hand) (?:is |went |has gone |feels |suddenly )*(?:weak|numb|paralysed|paralyzed|limp|dead) on one side`,
    ),
  },
  {
    id: 'arm',
    kind: 'stroke',
    re: /(?:arm|leg|hand) (?:is |went |has gone |feels |suddenly )*(?:weak|numb|paralysed|paralyzed|limp|dead)|weakness in (?:my|his|her|their|one) (?:arm|leg|hand)/,
    needs: ['face', 'speech', 'confusion', 'arm-strong'],
  },
  {
    id: 'speech',
    kind: 'stroke',
    re: new RegExp(
      `(?:slurred|slurring|garbled) (?:speech|words|${POSS} words|talking)|(?:speech|talking|voice) (?:is |has become |sounds |went )?(?:slurred|garbled|strange|jumbled)|(?:cannot|could not|unable to|struggling to|trouble|difficulty|problems?) (?:speak|speaking|talk|talking)(?! (?:to|about|with|in|english|openly|it))|(?:cannot|could not|unable to) get (?:${POSS} )?words out|(?:cannot|could not) find (?:${POSS} )?words|slurring`,
    ),
  },
  {
    id: 'confusion',
    kind: 'stroke',
    re: /sudden(?:ly)? (?:very |so |really )?(?:confused|confusion|disoriented|disorientated)|(?:confused|disoriented) all of a sudden/,
  },
  {
    id: 'stroke-now',
    kind: 'stroke',
    re: /(?:am|is|are|be|been|currently|now) having (?:a )?stroke|think (?:i am|he is|she is|they are|it is|this is|i may be|i might be) (?:having )?(?:a )?stroke|stroke (?:right )?now/,
  },
  {
    id: 'headache',
    kind: 'stroke',
    re: /worst headache (?:of|in) (?:my|his|her|their) life|sudden (?:severe|terrible|excruciating|splitting) headache|thunderclap headache|sudden(?:ly)? (?:lost|losing|loss of) (?:${POSS} )?(?:sight|vision)|suddenly (?:cannot|could not) see/,
  },

  // Suicide and self-harm.
  {
    id: 'suicide',
    kind: 'suicide',
    re: new RegExp(
      [
        `kill(?:ing)? ${PERSON_OBJ}`,
        `suicid(?:e|al)`,
        `end(?:ing)? (?:my|his|her|their) (?:own )?life`,
        `take (?:my|his|her|their) (?:own )?life`,
        `wants? to die`,
        `wish(?:es)? (?:i|he|she|they) (?:was|were) dead`,
        `better off dead`,
        `better off without me`,
        `no (?:reason|point) (?:to live|in living|living|going on)`,
        `(?:do|does) not want to (?:live|be alive|be here|wake up)`,
        `self[- ]?harm(?:ing)?`,
        `(?:hurt|harm)(?:ing)? ${PERSON_OBJ}`,
        `cut(?:ting)? ${PERSON_OBJ}`,
        `(?:took|taken|take|taking) an overdose`,
        `overdosed`,
      ].join('|'),
    ),
  },

  // Severe bleeding.
  {
    id: 'bleeding',
    kind: 'bleeding',
    re: new RegExp(
      [
        `bleeding (?:heavily|badly|a lot|profusely|everywhere|non-?stop)`,
        `bleeding (?:that |and it |and )?(?:will not|does not|cannot|is not going to) stop`,
        `(?:will not|does not|cannot|can not|could not) stop (?:the )?bleeding`,
        `(?:heavy|severe|uncontrolled|uncontrollable|massive|serious) bleeding`,
        `losing (?:a lot of|lots of|so much) blood`,
        `blood (?:is )?(?:pouring|gushing|spurting)`,
        `(?:vomiting|vomited|throwing up|threw up|coughing up|coughed up|bringing up) (?:up )?blood`,
        `vomit(?:ed|ing)? blood`,
        `black,? tarry (?:stools?|poo)`,
      ].join('|'),
    ),
  },

  // Anaphylaxis.
  {
    id: 'anaphylaxis',
    kind: 'anaphylaxis',
    re: new RegExp(
      [
        `anaphyla(?:xis|ctic)`,
        `(?:throat|tongue|lips?|face) (?:is |are |has |have |feels |feel )?(?:swelling|swollen|swelled|closing|closing up|tightening)`,
        `(?:swelling|swollen) (?:of )?(?:${POSS} )?(?:throat|tongue|lips|face)`,
        `used (?:my|his|her|their|an|the) (?:epipen|epi-pen|adrenaline|auto-?injector)`,
        `severe allergic reaction`,
        `allergic reaction and (?:cannot|could not|struggling to) breathe`,
      ].join('|'),
    ),
  },

  // Unconsciousness, collapse, seizure.
  {
    id: 'unconscious',
    kind: 'unconscious',
    re: /unconscious|unresponsive|not responding|(?:will not|cannot|can not|could not) wake(?: (?:him|her|them|up))?|collapsed|passed out|blacked out|not breathing|stopped breathing|no pulse|cardiac arrest|(?:having|had|is having) a (?:seizure|fit)|seizure (?:that )?(?:will not|is not) stop|convulsing/,
  },

  // Severe difficulty breathing.
  {
    id: 'breathing',
    kind: 'breathing',
    re: new RegExp(
      [
        `(?:cannot|can not|could not|unable to|struggling to|fighting to) (?:breathe|catch (?:${POSS} )?breath|get (?:${POSS} |enough )?(?:breath|air))(?! (?:through|out of) ${POSS} nose)`,
        `(?:very|really|extremely|so) (?:hard|difficult) to breathe`,
        `gasping for (?:air|breath)`,
        `fighting for breath`,
        `choking`,
        `(?:lips|face|skin) (?:are |is |turning |turned |going |gone )+(?:blue|grey|gray)`,
        `severe(?:ly)? (?:short(?:ness)? of breath|breathless(?:ness)?)`,
      ].join('|'),
    ),
  },
];

const NEGATIONS = new Set(['no', 'not', 'never', 'without', 'denies', 'deny', 'denied', 'nor', 'neither', 'none', 'nothing', 'free']);
/** "not sure", "do not know": doubt, not absence. */
const DOUBT_AFTER_NOT = new Set(['sure', 'certain', 'know', 'knowing', 'clear', 'only']);
/** Words that start a new statement, ending a negation's reach. */
const SCOPE_BREAKS = new Set(['and', 'then', 'now', 'so', 'because', 'i', 'he', 'she', 'they', 'we', 'it', 'but', 'although', 'though', 'yet', 'still']);

const LONG_PAST =
  /\b(?:\d+|a few|few|several|many|two|three|four|five|six|ten) (?:years?|months?|decades?) ago|\blast (?:year|month|decade|summer|winter|spring|autumn)\b|\bin the past\b|\bhistory of\b|\bused to\b|\bas a (?:child|kid|teenager|baby)\b|\bwhen (?:i|he|she|they) (?:was|were) (?:young|younger|a child|a kid|a teenager|little)\b|\bback in\b|\bin (?:19|20)\d\d\b|\byears back\b|\bprevious(?:ly)?\b|\bonce had\b|\bfor (?:many |several |a few )?(?:years|months)\b/;

const ABOUT_SOMEONE_NOW =
  /\b(?:i|he|she|they|we)(?: (?:just|suddenly|really|still|also|now))? (?:am|is|are|was|have|has|got|get|keep|keeps|feel|feels|felt|cannot|could not|started|think|woke|began|seem|seems|look|looks|want|wants|need|needs|took|cut)\b|\b(?:my|his|her|their|our)\b|\b(?:right now|at the moment|currently|suddenly|started|this morning|tonight|today|just now|minutes ago|an hour ago|help me|please help|what (?:should|do|can) (?:i|we) do)\b/;

const GENERAL_QUESTION =
  /\b(?:what (?:causes?|is|are|does|do|can cause|might cause)|why (?:do|does|would|might)|signs of|symptoms of|causes of|risk factors?|in general|generally|difference between|tell me about|explain|information (?:about|on)|learn about|how (?:do|can) you (?:tell|know|recognise|recognize|spot)|if (?:you|someone|somebody|a person|people|i see|i find|i ever)|(?:can|does|do|could|might|would|will) [a-z' ]{1,30}\bcause|is it possible|when should (?:you|someone|a person)|how (?:is|are) .{1,30} (?:diagnosed|treated)|warning signs)\b/;

interface Mention {
  sign: Sign;
  text: string;
}

function clauses(text: string): string[] {
  return text
    .split(/[.!?;:\n]+|,|\bbut\b|\bhowever\b|\balthough\b|\bthough\b/)
    .map((c) => c.trim())
    .filter(Boolean);
}

function negatedAt(clause: string, index: number): boolean {
  const before = clause.slice(0, index).match(/[a-z0-9']+/g) ?? [];
  for (let i = before.length - 1, seen = 0; i >= 0 && seen < 7; i--, seen++) {
    const w = before[i];
    if (NEGATIONS.has(w)) {
      if (w === 'not' && DOUBT_AFTER_NOT.has(before[i + 1] ?? '')) continue;
      return true;
    }
    if (SCOPE_BREAKS.has(w)) return false;
  }
  return false;
}

function mentions(message: string): Mention[] {
  const norm = normalise(message);
  const general = GENERAL_QUESTION.test(norm);
  const found: Mention[] = [];
  for (const clause of clauses(norm)) {
    if (LONG_PAST.test(clause)) continue;
    const aboutNow = ABOUT_SOMEONE_NOW.test(clause);
    if (general && !aboutNow) continue;
    for (const sign of SIGNS) {
      const re = new RegExp(`\\b(?:${sign.re.source})`, 'g');
      for (const m of clause.matchAll(re)) {
        if (negatedAt(clause, m.index ?? 0)) continue;
        found.push({ sign, text: m[0] });
      }
    }
  }
  return found;
}

/** The emergency a message describes, or null. Pure and synchronous: it runs before anything else. */
export function detectEmergency(message: string): EmergencyMatch | null {
  const ms = mentions(message);
  const ids = new Set(ms.map((m) => m.sign.id));
  const counting = ms.filter((m) => !m.sign.needs || m.sign.needs.some((id) => ids.has(id)));
  if (counting.length === 0) return null;
  // Suicide first: its answer carries the crisis lines; otherwise the first sign in the message decides.
  const first = counting.find((m) => m.sign.kind === 'suicide') ?? counting[0];
  return { kind: first.sign.kind, evidence: counting.map((m) => m.text) };
}
