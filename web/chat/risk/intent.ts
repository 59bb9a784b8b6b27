import { normalise } from '../../../shared/chat/text';

// A request to run the check ("check my risk", "can you calculate my heart disease risk?"), not a
// question about risk in general ("what does a 20% risk estimate mean?") or about the check itself
// ("do my answers leave my device when I check my risk?"): those go to the knowledge base.
const POLITE = String.raw`(?:(?:please|ok|okay|yes|hi|hello|hey)\s+)*`;
const ASK = String.raw`(?:(?:can|could|would|will)\s+(?:you|i)\s+(?:please\s+)?|i\s+(?:want|would\s+like|need)\s+to\s+|(?:let|help)\s+me\s+|let\s+)?`;
const VERB = String.raw`(?:check|calculate|estimate|work\s+out|assess|test|measure|find\s+out|know|see|get)`;
const RISK = String.raw`my\s+(?:own\s+)?(?:heart\s+(?:disease\s+)?|cardiac\s+|cardiovascular\s+)?risk(?:\s+(?:of|for)\s+(?:heart\s+disease|a\s+heart\s+attack|heart\s+problems))?`;
const REQUEST = new RegExp(String.raw`^${POLITE}${ASK}${VERB}\s+(?:what\s+is\s+)?${RISK}(?:\s+please)?$`);
const WHAT = new RegExp(String.raw`^${POLITE}(?:what\s+is|how\s+(?:high|big|bad)\s+is)\s+${RISK}$`);
const SHORT = new RegExp(String.raw`^${POLITE}(?:(?:start|run|do|begin|open)\s+(?:the\s+|a\s+)?)?(?:heart\s+)?risk\s+(?:check|test|calculator|assessment)(?:\s+please)?$`);

/** Whether a message asks to run the on-device risk check. */
export function wantsRiskCheck(message: string): boolean {
  const text = normalise(message)
    .replace(/[^a-z0-9 ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return REQUEST.test(text) || WHAT.test(text) || SHORT.test(text);
}
