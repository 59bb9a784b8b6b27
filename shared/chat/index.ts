/**
 * The patient chat's answering core, runtime-neutral (the page runs it in the browser today; the server
 * can run the same code). respond() applies, in order:
 *
 * 1. emergency.ts: a tested list of emergency signs → a fixed urgent-care answer, before anything else;
 * 2. dosing.ts: a question about doses → a fixed pointer to the prescriber or a pharmacist;
 * 3. knowledgeBase.ts: MiniSearch over the sections of the articles in content/kb (Porter stemming,
 *    synonym concepts from synonyms.ts, spelling correction and fuzzy terms), with a calibrated
 *    "no good match" line (MIN_COVERAGE) → "I can't answer that" and the list of topics;
 * 4. respond.ts: otherwise an extractive answer (one to three sentences quoted from the best section)
 *    citing the article by title with a link to /chat/articles/<slug>.
 *
 *    A question that asks for a number (quantity.ts: "what is a normal…", "how many…") is answered from
 *    the section, and with the sentence, that states one with its unit.
 *
 * Every reply carries the "information, not a diagnosis" line. `npm run eval:chat` measures retrieval on
 * eval/questions.json and, for questions with `mustContain`, whether the quote holds the number or next
 * step asked for; eval/calibration.json is where the threshold was chosen. riskBands.ts holds the next
 * step the risk check shows for each band of estimate.
 */
export * from './articles';
export { detectEmergency, type EmergencyKind, type EmergencyMatch } from './emergency';
export { asksForDosing } from './dosing';
export * from './knowledgeBase';
export * from './replies';
export * from './respond';
export { asksForQuantity, hasQuantity } from './quantity';
export * from './riskBands';
