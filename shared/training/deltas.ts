function checkAligned(a: Float32Array[], b: Float32Array[], what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: ${a.length} tensors against ${b.length}`);
  a.forEach((t, i) => {
    if (t.length !== b[i].length) throw new RangeError(`${what}: tensor ${i} has ${t.length} values against ${b[i].length}`);
  });
}

/** `local - global`, tensor by tensor: the update a participant uploads. */
export function computeDelta(local: Float32Array[], global: Float32Array[]): Float32Array[] {
  checkAligned(local, global, 'computeDelta');
  return local.map((l, i) => {
    const g = global[i];
    const out = new Float32Array(l.length);
    for (let j = 0; j < l.length; j++) out[j] = l[j] - g[j];
    return out;
  });
}

/** `global + delta`, tensor by tensor, into new arrays. */
export function applyDelta(global: Float32Array[], delta: Float32Array[]): Float32Array[] {
  checkAligned(global, delta, 'applyDelta');
  return global.map((g, i) => {
    const d = delta[i];
    const out = new Float32Array(g.length);
    for (let j = 0; j < g.length; j++) out[j] = g[j] + d[j];
    return out;
  });
}
