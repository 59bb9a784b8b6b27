import { describe, expect, it } from 'vitest';
import { loadKnowledgeBase } from '../../server/chat/articleSources';
import { EMERGENCY_NUMBERS } from './replies';
import { respond } from './respond';
import { bandWordsFor, nextStepFor, riskBand } from './riskBands';
import { normalise } from './text';

describe('what to do after a risk estimate', () => {
  it('puts an estimate in a band, and each band comes with a calm next step', () => {
    expect([0.95, 0.5, 0.49, 0.2, 0.19, 0.01].map(riskBand)).toEqual(['high', 'high', 'moderate', 'moderate', 'low', 'low']);
    const high = nextStepFor(0.95);
    expect(high.title).toMatch(/talk to your doctor within the next few weeks/);
    expect(high.lines.join(' ')).toContain(EMERGENCY_NUMBERS);
    expect(high.lines.join(' ')).toMatch(/not a diagnosis/);
    expect(nextStepFor(0.3).title).toMatch(/routine check-up/);
    expect(nextStepFor(0.05).title).toMatch(/healthy habits/);
    // Symptoms come first whatever the band.
    for (const p of [0.95, 0.3, 0.05]) expect(nextStepFor(p).lines.join(' '), String(p)).toMatch(/chest pain/);
  });

  it('reads a percentage in a question about an estimate as its band', () => {
    expect(bandWordsFor(normalise('My risk says 95%, what should I do?'))).toEqual(['high']);
    expect(bandWordsFor(normalise('my estimate is 3 percent'))).toEqual(['low']);
    expect(bandWordsFor(normalise('my risk is 30%'))).toEqual([]);
    expect(bandWordsFor(normalise('hepatitis C treatment cures 95%'))).toEqual([]);
  });

  it('the chat answers "my risk says 95%" from the section on high results', () => {
    const r = respond(loadKnowledgeBase(), 'My risk says 95%, what should I do?');
    expect(r.kind).toBe('answer');
    if (r.kind !== 'answer') return;
    expect(r.excerpts[0]).toMatchObject({ slug: 'risk-estimates', heading: 'If your result is high' });
    expect(r.excerpts[0].sentences.join(' ')).toMatch(/talk to your doctor/);
  });
});
