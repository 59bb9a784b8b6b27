import * as tf from '@tensorflow/tfjs';

/** GroupNorm's epsilon, as Keras's GroupNormalization takes it. */
const EPSILON = 1e-3;

export interface ResidualBlockArgs {
  filters: number;
  strides: 1 | 2;
  groups: number;
  inputShape?: number[];
  name?: string;
}

type Weight = tf.LayerVariable;

/**
 * A basic residual block as one layer (see `residualBlockLayerSchema`): tfjs has no GroupNorm layer,
 * and one layer keeps the model a plain chain whose weights come in the order this layer creates
 * them, the order `layerWeightShapes` lists (a functional graph orders them by its own topology).
 * Registered with tfjs's serialization, so an exported model loads wherever this module is imported.
 */
export class ResidualBlock extends tf.layers.Layer {
  static className = 'ConsiliumResidualBlock';
  readonly filters: number;
  readonly strides: 1 | 2;
  readonly groups: number;
  private w: { conv1: Weight; norm1: [Weight, Weight]; conv2: Weight; norm2: [Weight, Weight]; shortcut: { kernel: Weight; norm: [Weight, Weight] } | null } | null = null;

  constructor(args: ResidualBlockArgs) {
    super(args);
    this.filters = args.filters;
    this.strides = args.strides;
    this.groups = args.groups;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1]!;
    const f = this.filters;
    // Zeros here: buildModel loads the real weights (initialWeights or a version) right after.
    const zeros = tf.initializers.zeros();
    const add = (name: string, s: number[]) => this.addWeight(name, s, 'float32', zeros, undefined, true);
    const norm = (part: string): [Weight, Weight] => [add(`${part}/gamma`, [f]), add(`${part}/beta`, [f])];
    const conv1 = add('conv1/kernel', [3, 3, channels, f]);
    const norm1 = norm('norm1');
    const conv2 = add('conv2/kernel', [3, 3, f, f]);
    const norm2 = norm('norm2');
    const shortcut = this.strides !== 1 || channels !== f ? { kernel: add('shortcut/kernel', [1, 1, channels, f]), norm: norm('shortcutNorm') } : null;
    this.w = { conv1, norm1, conv2, norm2, shortcut };
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [batch, rows, cols] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const down = (n: number | null) => (n === null ? null : Math.ceil(n / this.strides));
    return [batch, down(rows), down(cols), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const w = this.w!;
      const conv = (t: tf.Tensor4D, kernel: Weight, strides: number) => tf.conv2d(t, kernel.read() as tf.Tensor4D, strides, 'same', 'NHWC');
      const main = tf.relu(this.groupNorm(conv(x, w.conv1, this.strides), w.norm1));
      const residual = this.groupNorm(conv(main, w.conv2, 1), w.norm2);
      const shortcut = w.shortcut ? this.groupNorm(conv(x, w.shortcut.kernel, this.strides), w.shortcut.norm) : x;
      return tf.relu(tf.add(residual, shortcut));
    });
  }

  /**
   * GroupNorm (Wu & He 2018): each sample's channels standardised in groups over space, then scaled
   * and shifted per channel. gamma and the group's 1/σ fold into one scale, beta and the mean into one
   * shift, so the full-size tensor sees two broadcast ops, not four (the CPU backend's broadcasts are
   * slow).
   */
  private groupNorm(x: tf.Tensor4D, [gamma, beta]: [Weight, Weight]): tf.Tensor4D {
    const [, rows, cols, channels] = x.shape;
    const perGroup = channels / this.groups;
    const grouped = tf.reshape(x, [-1, rows, cols, this.groups, perGroup]);
    const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
    const scale = tf.mul(tf.rsqrt(tf.add(variance, EPSILON)), tf.reshape(gamma.read(), [1, 1, 1, this.groups, perGroup]));
    const shift = tf.sub(tf.reshape(beta.read(), [1, 1, 1, this.groups, perGroup]), tf.mul(mean, scale));
    return tf.reshape(tf.add(tf.mul(grouped, scale), shift), [-1, rows, cols, channels]) as tf.Tensor4D;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, strides: this.strides, groups: this.groups };
  }
}
tf.serialization.registerClass(ResidualBlock);
