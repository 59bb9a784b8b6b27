import { describe, expect, it } from 'vitest';
import { detectEmergency, type EmergencyKind } from './emergency';

/** Every phrasing here must get the urgent answer, of the given kind. */
const EMERGENCIES: [string, EmergencyKind][] = [
  // Chest pain with a companion sign, or severe.
  ['I have chest pain and I am short of breath', 'heart'],
  ["I've got chest pain and I can't catch my breath", 'heart'],
  ['chest pain and sweating', 'heart'],
  ['My chest hurts and I am sweating a lot', 'heart'],
  ['I have a pain in my chest that is spreading down my left arm', 'heart'],
  ['chest tightness going to my jaw', 'heart'],
  ['Tight chest, feel sick and dizzy', 'heart'],
  ['my husband has chest pain and is cold and clammy', 'heart'],
  ['crushing chest pain', 'heart'],
  ['Severe chest pain for 20 minutes now', 'heart'],
  ["chest pain that won't go away", 'heart'],
  ['I think I am having a heart attack', 'heart'],
  ['I think I’m having a heart attack, what do I do?', 'heart'],
  ['Is it normal to have chest pain and sweating?', 'heart'],
  ['I am not sure but I have chest pain and feel light-headed', 'heart'],
  ['no fever, but I have chest pain and I am breathless', 'heart'],
  ['my heart is racing and I feel faint', 'heart'],
  ['I had chest pain an hour ago and I was sweating', 'heart'],
  // Stroke.
  ['my face is drooping on one side', 'stroke'],
  ["My dad's face is drooping and he can't speak properly", 'stroke'],
  ['her smile looks lopsided', 'stroke'],
  ['I suddenly cannot lift my right arm', 'stroke'],
  ['my mum has sudden weakness in her arm and slurred speech', 'stroke'],
  ['his speech is slurred', 'stroke'],
  ['She is slurring her words', 'stroke'],
  ['I am having trouble speaking and my arm feels numb', 'stroke'],
  ['my grandfather is suddenly confused', 'stroke'],
  ['I think my wife is having a stroke', 'stroke'],
  ['the worst headache of my life came on suddenly', 'stroke'],
  ['one side of my body went numb', 'stroke'],
  // Suicide and self-harm.
  ['I want to kill myself', 'suicide'],
  ['I have been thinking about suicide', 'suicide'],
  ['I feel suicidal', 'suicide'],
  ["I don't want to live anymore", 'suicide'],
  ['I want to end my life', 'suicide'],
  ['everyone would be better off without me', 'suicide'],
  ['I keep hurting myself', 'suicide'],
  ['I have been self-harming again', 'suicide'],
  ['my friend says she wants to die', 'suicide'],
  ['I took an overdose of my tablets', 'suicide'],
  ["I'm not suicidal but I keep thinking about ending my life", 'suicide'],
  ['What are the risk factors for heart disease? I want to die', 'suicide'],
  // Severe bleeding.
  ["I cut my hand and it won't stop bleeding", 'bleeding'],
  ['he is bleeding heavily from his leg', 'bleeding'],
  ['I am vomiting blood', 'bleeding'],
  ['I have cirrhosis and I threw up blood', 'bleeding'],
  ['blood is pouring out of the wound', 'bleeding'],
  // Anaphylaxis.
  ['my throat is swelling after a bee sting', 'anaphylaxis'],
  ['I ate peanuts and my tongue is swollen', 'anaphylaxis'],
  ['I think I am having an anaphylactic reaction', 'anaphylaxis'],
  ['we used his EpiPen but his lips are swelling', 'anaphylaxis'],
  ['severe allergic reaction', 'anaphylaxis'],
  // Unconsciousness, collapse, seizure.
  ['my wife collapsed and is unconscious', 'unconscious'],
  ["he's not breathing", 'unconscious'],
  ["I can't wake my father up", 'unconscious'],
  ['my son is having a seizure', 'unconscious'],
  ['she passed out and is unresponsive', 'unconscious'],
  // Severe breathing difficulty.
  ["I can't breathe", 'breathing'],
  ['my little girl is struggling to breathe', 'breathing'],
  ['gasping for air', 'breathing'],
  ['his lips are turning blue', 'breathing'],
  ['he is choking on food', 'breathing'],
];

/** None of these may trigger it: negations, general questions, history, and everyday health talk. */
const BENIGN: string[] = [
  'I have no chest pain',
  'No chest pain today',
  "I don't have any chest pain or shortness of breath",
  'I have not had chest pain, but I am sweating a lot at night',
  'there is no pain in my chest',
  'I deny chest pain',
  'What causes chest pain in general?',
  'What are the warning signs of a heart attack?',
  'What are the symptoms of a heart attack, like chest pain and sweating?',
  'If someone has chest pain and sweating, what should they do?',
  'Can stress cause chest pain and sweating?',
  'my heart is racing after coffee',
  'When should I go to A&E with chest pain?',
  'My father had a stroke years ago, what are the risk factors?',
  'my mum had a heart attack in 2015, am I at risk?',
  'I have a history of angina',
  'What are the signs of a stroke, like face drooping?',
  "I'm worried about stroke, what are the warning signs like arm weakness?",
  'What is the FAST test for stroke?',
  "I'm not suicidal, I just want to understand my cholesterol",
  "I don't want to die of heart disease like my dad, what can I do?",
  'what is the suicide rate in people with heart disease',
  'I cannot talk to my doctor about my blood pressure, it makes me anxious',
  'I get short of breath climbing stairs, is that my heart?',
  'I feel breathless when I run',
  'I am sweating a lot after exercise, is that normal?',
  'Can I still exercise if I had a heart attack last year?',
  'I sit at a desk all day, is that bad for my heart?',
  'What does vomiting blood mean in cirrhosis?',
  'What is anaphylaxis?',
  'What is a normal blood pressure?',
  'My ALT is raised, what does that mean?',
  'I used to smoke and had chest pain and breathlessness back then',
  'hepatitis c symptoms',
  'my arm is sore after my vaccine',
  "I can't breathe through my nose because of a cold",
  'How do I stop bleeding gums when I brush my teeth?',
];

describe('emergency detection', () => {
  it.each(EMERGENCIES)('urgent: %s', (message, kind) => {
    expect(detectEmergency(message)?.kind).toBe(kind);
  });

  it.each(BENIGN.map((m) => [m]))('not urgent: %s', (message) => {
    expect(detectEmergency(message)).toBeNull();
  });

  it('reads typographic apostrophes and capitals the same way', () => {
    expect(detectEmergency('I CAN’T BREATHE')?.kind).toBe('breathing');
    expect(detectEmergency('I DON’T HAVE CHEST PAIN')).toBeNull();
  });
});
