import * as tf from '@tensorflow/tfjs';

/**
 * TensorFlow.js's CPU kernels for the convolution filter gradient and the max-pooling gradient read
 * every value through `TensorBuffer.get(...)`, 5–15× slower than the same loops over the typed
 * arrays: they made a small CNN's epoch on the CPU backend take tens of seconds. These walk the
 * arrays directly and add each output's terms in the same order, in doubles, as the originals do,
 * so they return the same bits (tested against the originals). Anything they were not written for
 * (channels-first data, dilation, other dtypes) goes to the original kernel.
 */

interface CpuBackendLike {
  data: { get(dataId: unknown): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

interface Conv2DBackpropFilterAttrs {
  strides: [number, number] | number;
  pad: Parameters<typeof tf.backend_util.computeConv2DInfo>[4];
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

function conv2DBackpropFilter(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    const backend = args.backend as unknown as CpuBackendLike;
    const dataFormat = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat);
    if (dataFormat !== 'channelsLast' || x.dtype !== 'float32' || dy.dtype !== 'float32') return original(args);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      dataFormat,
    );
    const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
    const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const xs = backend.data.get(x.dataId).values as Float32Array;
    const dys = backend.data.get(dy.dataId).values as Float32Array;
    const sums = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
    for (let b = 0; b < batchSize; b++) {
      for (let yR = 0; yR < outHeight; yR++) {
        for (let yC = 0; yC < outWidth; yC++) {
          const dyAt = ((b * outHeight + yR) * outWidth + yC) * outChannels;
          for (let wR = 0; wR < filterHeight; wR++) {
            const xR = wR + yR * strideHeight - top;
            if (xR < 0 || xR >= inHeight) continue;
            for (let wC = 0; wC < filterWidth; wC++) {
              const xC = wC + yC * strideWidth - left;
              if (xC < 0 || xC >= inWidth) continue;
              const xAt = ((b * inHeight + xR) * inWidth + xC) * inChannels;
              const wAt = (wR * filterWidth + wC) * inChannels * outChannels;
              for (let d1 = 0; d1 < inChannels; d1++) {
                const xv = xs[xAt + d1];
                const at = wAt + d1 * outChannels;
                for (let d2 = 0; d2 < outChannels; d2++) sums[at + d2] += xv * dys[dyAt + d2];
              }
            }
          }
        }
      }
    }
    return backend.makeTensorInfo(info.filterShape, 'float32', Float32Array.from(sums));
  };
}

interface MaxPoolGradAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: Parameters<typeof tf.backend_util.computePool2DInfo>[4];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * Each pooling window's gradient goes to the first largest input in it (row by row), as the original
 * decides; an input in several windows sums their gradients in window order, as the original does.
 */
function maxPoolGrad(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    const attrs = args.attrs as unknown as MaxPoolGradAttrs;
    const backend = args.backend as unknown as CpuBackendLike;
    if (input.dtype !== 'float32' || dy.dtype !== 'float32') return original(args);
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      attrs.filterSize,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    if (info.dilationHeight !== 1 || info.dilationWidth !== 1 || info.dataFormat !== 'channelsLast') return original(args);
    const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
    const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const xs = backend.data.get(input.dataId).values as Float32Array;
    const dys = backend.data.get(dy.dataId).values as Float32Array;
    const sums = new Float64Array(xs.length);
    for (let b = 0; b < batchSize; b++) {
      for (let yR = 0; yR < outHeight; yR++) {
        const rCorner = yR * strideHeight - top;
        const rMin = Math.max(0, rCorner);
        const rMax = Math.min(inHeight, rCorner + filterHeight);
        for (let yC = 0; yC < outWidth; yC++) {
          const cCorner = yC * strideWidth - left;
          const cMin = Math.max(0, cCorner);
          const cMax = Math.min(inWidth, cCorner + filterWidth);
          const dyAt = ((b * outHeight + yR) * outWidth + yC) * inChannels;
          for (let d = 0; d < inChannels; d++) {
            let best = Number.NEGATIVE_INFINITY;
            let at = -1;
            for (let xR = rMin; xR < rMax; xR++) {
              for (let xC = cMin; xC < cMax; xC++) {
                const i = ((b * inHeight + xR) * inWidth + xC) * inChannels + d;
                if (xs[i] > best) {
                  best = xs[i];
                  at = i;
                }
              }
            }
            if (at >= 0) sums[at] += dys[dyAt + d];
          }
        }
      }
    }
    return backend.makeTensorInfo(input.shape, 'float32', Float32Array.from(sums));
  };
}

function replaceCpuKernel(name: string, faster: (original: tf.KernelFunc) => tf.KernelFunc): void {
  const original = tf.getKernel(name, 'cpu');
  if (!original) return;
  tf.unregisterKernel(name, 'cpu');
  tf.registerKernel({ ...original, kernelFunc: faster(original.kernelFunc) });
}

let registered = false;

/**
 * Swap in the faster CPU kernels, once per process or worker. Cheap and idempotent; a no-op where the
 * CPU backend's kernels are not registered.
 */
export function registerFastCpuKernels(): void {
  if (registered) return;
  registered = true;
  replaceCpuKernel(tf.Conv2DBackpropFilter, conv2DBackpropFilter);
  replaceCpuKernel(tf.MaxPoolGrad, maxPoolGrad);
}
