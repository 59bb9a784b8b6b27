/**
 * Encoded examples, sample-major: sample i is `x[i * width .. (i + 1) * width)`, its label `y[i]`
 * (or `y[i * units ..]` when labels are one-hot). A sample is a flat row of `width` values unless
 * `shape` says otherwise: an image is `[height, width, channels]`, stored row by row, channels last.
 */
export interface Dataset {
  x: Float32Array;
  y: Float32Array;
  n: number;
  /** Values per sample. */
  width: number;
  /** Shape of one sample, its product `width`; `[width]` when absent. */
  shape?: number[];
}

/** The shape of one sample of `ds`. */
export function sampleShape(ds: Dataset): number[] {
  return ds.shape ? [...ds.shape] : [ds.width];
}

const withShape = (ds: Dataset) => (ds.shape ? { shape: [...ds.shape] } : {});

/** The rows at `idx`, in that order, copied. */
export function subset(ds: Dataset, idx: ArrayLike<number>): Dataset {
  const { width } = ds;
  const labelWidth = ds.n > 0 ? ds.y.length / ds.n : 1;
  const n = idx.length;
  const x = new Float32Array(n * width);
  const y = new Float32Array(n * labelWidth);
  for (let r = 0; r < n; r++) {
    const i = idx[r];
    if (!Number.isInteger(i) || i < 0 || i >= ds.n) throw new RangeError(`row ${i} is outside a dataset of ${ds.n} rows`);
    x.set(ds.x.subarray(i * width, (i + 1) * width), r * width);
    y.set(ds.y.subarray(i * labelWidth, (i + 1) * labelWidth), r * labelWidth);
  }
  return { x, y, n, width, ...withShape(ds) };
}

/** Rows of several datasets of the same width (and sample shape), one after another. */
export function concat(datasets: readonly Dataset[]): Dataset {
  if (datasets.length === 0) throw new RangeError('nothing to concatenate');
  const width = datasets[0].width;
  if (datasets.some((d) => d.width !== width)) throw new RangeError('datasets of different widths');
  const shape = sampleShape(datasets[0]).join();
  if (datasets.some((d) => sampleShape(d).join() !== shape)) throw new RangeError('datasets of different sample shapes');
  const n = datasets.reduce((s, d) => s + d.n, 0);
  const x = new Float32Array(n * width);
  const y = new Float32Array(datasets.reduce((s, d) => s + d.y.length, 0));
  let xo = 0;
  let yo = 0;
  for (const d of datasets) {
    x.set(d.x, xo);
    y.set(d.y, yo);
    xo += d.x.length;
    yo += d.y.length;
  }
  return { x, y, n, width, ...withShape(datasets[0]) };
}
