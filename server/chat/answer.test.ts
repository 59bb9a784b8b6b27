import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { respond } from '../../shared/chat';
import { answerMessage, type AnswerDeps } from './answer';
import { loadKnowledgeBase } from './articleSources';
import { startFakeLlm, type FakeLlm, type FakeLlmBehaviour } from './fakeLlm';
import { mentionsDose } from './prompt';

const kb = loadKnowledgeBase();
const QUESTION = 'What is the difference between HDL and LDL cholesterol?';

function collect() {
  const deltas: { text: string; reset?: boolean }[] = [];
  const ctrl = new AbortController();
  return {
    deltas,
    ctrl,
    sink: { signal: ctrl.signal, delta: (text: string, reset?: boolean) => deltas.push(reset ? { text, reset } : { text }) },
    /** What the page shows: everything since the last reset. */
    shown: () => deltas.slice(deltas.map((d) => !!d.reset).lastIndexOf(true) + 1).map((d) => d.text).join(''),
  };
}

describe('answers without a language model', () => {
  const deps: AnswerDeps = { kb, streamDelayMs: 0 };

  it('streams the retrieval answer in several chunks that join back into its text', async () => {
    const c = collect();
    const { reply, source } = await answerMessage(deps, QUESTION, c.sink);
    expect(source).toBe('retrieval');
    expect(reply).toEqual(respond(kb, QUESTION));
    expect(c.deltas.length).toBeGreaterThan(5);
    expect(c.shown()).toBe(reply.text);
  });

  it('answers an emergency at once, with nothing streamed first', async () => {
    const c = collect();
    const { reply } = await answerMessage(deps, 'crushing chest pain and I cannot breathe', c.sink);
    expect(reply.kind).toBe('emergency');
    expect(c.deltas).toEqual([]);
  });
});

describe('answers written by a language model from the retrieved passages', () => {
  let llm: FakeLlm;
  let deps: AnswerDeps;
  const retrieval = respond(kb, QUESTION);
  beforeAll(async () => {
    llm = await startFakeLlm();
    deps = { kb, streamDelayMs: 0, llm: { baseUrl: llm.baseUrl, model: 'test-model', timeoutMs: 1_500, firstTokenTimeoutMs: 400 } };
  });
  afterAll(() => llm.close());

  it('streams the model\'s tokens in order and keeps retrieval\'s citations', async () => {
    const chunks = ['HDL carries cholesterol ', 'away from the arteries, ', 'while LDL can build up in them ', '(from "Cholesterol").'];
    llm.behave({ kind: 'stream', chunks, delayMs: 5 });
    const c = collect();
    // Generous time-outs here: this test is about the tokens, not the timing.
    const { reply, source } = await answerMessage({ ...deps, llm: { ...deps.llm!, timeoutMs: 15_000, firstTokenTimeoutMs: 10_000 } }, QUESTION, c.sink);
    expect(c.deltas.map((d) => d.text)).toEqual(chunks);
    expect(source).toBe('llm');
    expect(reply.kind).toBe('answer');
    if (reply.kind !== 'answer' || retrieval.kind !== 'answer') throw new Error('expected answers');
    expect(reply.generated).toEqual({ model: 'test-model', body: chunks.join('') });
    expect(reply.citations).toEqual(retrieval.citations);
    expect(reply.citations[0].href).toBe('/chat/articles/cholesterol');
    expect(reply.text).toContain('This is information, not a diagnosis');
    expect(reply.text).toContain('/chat/articles/cholesterol');

    // The model saw the rules and the cited article's passages, and the question only as the user's turn.
    const { messages } = llm.requests.at(-1)!.body;
    expect(messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(messages[0].content).toMatch(/ONLY the numbered passages/);
    expect(messages[0].content).toMatch(/Never give doses/);
    expect(messages[0].content).toContain('From "Cholesterol: HDL, LDL and triglycerides", section "Good and bad cholesterol"');
    expect(messages[1].content).toBe(QUESTION);
  });

  for (const [name, behaviour] of [
    ['answers HTTP 500', { kind: 'status', status: 500 }],
    ['stalls past the first-token time-out', { kind: 'stall' }],
    ['stalls mid-answer past the total time-out', { kind: 'stall', afterChunks: ['HDL is '] }],
    ['sends a garbage stream', { kind: 'raw', body: 'data: {"choices": [{"delta": {"content": "HDL "}}]}\n\ndata: %%%garbage%%%\n\n' }],
    ['writes a dose', { kind: 'stream', chunks: ['Take 20 mg of atorvastatin ', 'each night.'] }],
  ] as [string, FakeLlmBehaviour][]) {
    it(`falls back to the retrieval answer when the model ${name}`, async () => {
      llm.behave(behaviour);
      const c = collect();
      const { reply, source } = await answerMessage(deps, QUESTION, c.sink);
      expect(source).toBe('retrieval');
      expect(reply).toEqual(retrieval);
      // Whatever streamed from the model was withdrawn; what the page shows is the retrieval answer.
      expect(c.shown()).toBe(retrieval.text);
    });
  }

  it('never asks the model about an emergency, a dose or a question the articles do not cover', async () => {
    llm.behave({ kind: 'stream', chunks: ['should not be used'] });
    const before = llm.requests.length;
    for (const [q, kind] of [
      ['I think I am having a stroke, my face is drooping', 'emergency'],
      ['How many mg of atorvastatin should I take?', 'dosing'],
      ['Who won the football match last night?', 'cant-answer'],
    ] as const) {
      const { reply, source } = await answerMessage(deps, q, collect().sink);
      expect(reply.kind).toBe(kind);
      expect(source).toBe('retrieval');
    }
    expect(llm.requests.length).toBe(before);
  });
});

describe('the dose check on written answers', () => {
  it('catches doses and tablet counts, not laboratory units', () => {
    expect(mentionsDose('Take 20 mg a day')).toBe(true);
    expect(mentionsDose('take two tablets')).toBe(true);
    expect(mentionsDose('500mcg')).toBe(true);
    expect(mentionsDose('LDL below 100 mg/dL is the aim')).toBe(false);
    expect(mentionsDose('a fasting level of 126 mg per dL')).toBe(false);
    expect(mentionsDose('5.5 mmol/L')).toBe(false);
  });
});
