import { describe, expect, it } from 'vitest';
import { outlyingSites, type SiteFigures } from './outliers';

const site = (id: string, accuracy: number, loss: number, numSamples = 120): SiteFigures => ({ id, accuracy, loss, numSamples });
/** Five honest, non-IID sites' figures for one version, as the heart-risk simulations report them. */
const honest = [site('a', 0.82, 0.41), site('b', 0.77, 0.47, 70), site('c', 0.88, 0.33, 40), site('d', 0.8, 0.44, 135), site('e', 0.85, 0.38)];

describe('outlyingSites', () => {
  it('flags nothing among honest sites that differ the way hospitals do', () => {
    expect(outlyingSites(honest).size).toBe(0);
  });

  it('flags a forged perfect report, saying how far it sits from the median', () => {
    const flagged = outlyingSites([...honest.slice(1), site('a', 1, 0.001, 120)]);
    expect([...flagged.keys()]).toEqual(['a']);
    expect(flagged.get('a')).toMatch(/deviations from the other sites' figures/);
  });

  it('flags a report far worse than the rest (a broken tab, a model that fails one site)', () => {
    expect([...outlyingSites([...honest, site('f', 0.12, 4.5)]).keys()]).toEqual(['f']);
    // One merely worse than the rest is not: the pooled figure must not lose the sites a model fails.
    expect(outlyingSites([...honest, site('f', 0.6, 0.8)]).size).toBe(0);
  });

  it('needs at least three reports to compare', () => {
    expect(outlyingSites([site('a', 1, 0.001), site('b', 0.6, 0.7)]).size).toBe(0);
  });

  it('cannot be dragged by a minority of forgers: two of seven sending the same forgery are both flagged', () => {
    const flagged = outlyingSites([...honest, site('x', 1, 0.001), site('y', 1, 0.001)]);
    expect([...flagged.keys()].sort()).toEqual(['x', 'y']);
  });
});
