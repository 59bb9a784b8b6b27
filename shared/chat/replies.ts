import type { EmergencyKind } from './emergency';

/** Added to every reply, whatever its kind. */
export const DISCLAIMER =
  'This is information, not a diagnosis. It does not replace advice from your doctor, nurse or pharmacist, who know your situation.';

export const EMERGENCY_NUMBERS = 'Call your local emergency number now: 112 in Europe, 999 in the UK, 911 in the US and Canada.';

export interface EmergencyText {
  title: string;
  lines: string[];
  /** Crisis lines, for thoughts of suicide or self-harm. */
  crisisLines?: string[];
}

/** Fixed urgent-care answers, following NHS, CDC and American Heart Association first-action advice. */
export const EMERGENCY_TEXT: Record<EmergencyKind, EmergencyText> = {
  heart: {
    title: 'This could be a heart attack. Get emergency help now.',
    lines: [
      EMERGENCY_NUMBERS,
      'Stop what you are doing and sit down. Do not drive yourself to hospital.',
      'If you are alone, unlock the door and tell the call handler. They will tell you what to do while you wait.',
    ],
  },
  stroke: {
    title: 'These can be signs of a stroke. Get emergency help now.',
    lines: [
      EMERGENCY_NUMBERS,
      'Face drooping, arm weakness or speech problems need an ambulance even if they pass quickly. Do not wait to see if they get better.',
      'Note the time the symptoms started and tell the call handler.',
    ],
  },
  suicide: {
    title: 'You do not have to deal with this alone. Please talk to someone now.',
    lines: [
      'If you are in danger right now, or have hurt yourself or taken an overdose, call your local emergency number: 112 in Europe, 999 in the UK, 911 in the US and Canada.',
      'If you can, stay with someone you trust, and move away from anything you could use to hurt yourself.',
      'If you are worried about someone else, stay with them and call for help.',
    ],
    crisisLines: [
      'UK and Ireland: Samaritans, call 116 123 (free, day or night).',
      'US: call or text 988 (988 Suicide & Crisis Lifeline).',
      'Elsewhere: your local emergency number, or a crisis line in your country.',
    ],
  },
  bleeding: {
    title: 'Severe bleeding is an emergency. Get help now.',
    lines: [
      EMERGENCY_NUMBERS,
      'For a wound, press firmly on it with a clean cloth or dressing and keep pressing.',
      'Vomiting blood, or black, tarry stools, also need emergency care straight away.',
    ],
  },
  anaphylaxis: {
    title: 'This could be a severe allergic reaction (anaphylaxis). Get emergency help now.',
    lines: [
      EMERGENCY_NUMBERS,
      'If an adrenaline auto-injector has been prescribed, use it now, as you were shown.',
      'Lie down with your legs raised, or sit up if breathing is hard. Do not stand up suddenly.',
    ],
  },
  unconscious: {
    title: 'Someone who is unconscious, unresponsive or not breathing needs emergency help now.',
    lines: [
      EMERGENCY_NUMBERS,
      'If they are not breathing normally, the call handler will talk you through chest compressions (CPR).',
      'If they are breathing, lay them on their side and stay with them.',
    ],
  },
  breathing: {
    title: 'Severe difficulty breathing is an emergency. Get help now.',
    lines: [EMERGENCY_NUMBERS, 'Sit upright and loosen tight clothing. Stay with someone if you can.'],
  },
};

export const DOSING_TEXT =
  'I cannot give advice about doses, or about starting, stopping or changing a medicine. The right amount depends on you, your health and your other medicines, so please ask the clinician who prescribed it or a pharmacist: they can answer this safely. If you think you have taken too much of a medicine, call your local emergency number or a poison or medical helpline now.';

export const CANT_ANSWER_TEXT =
  "I can't answer that. I only answer from a small set of reviewed articles, and none of them matches your question well enough, so I won't guess.";

export const CANT_ANSWER_HINT = 'I can help with questions about these topics:';
