import { taskTemplateSchema, templateVersionId, type TaskTemplate } from './spec';

/** Side of the scans the lesion model takes; imported images are resized to it. */
export const LESION_INPUT_SIZE = 32;

export const lesionImages: TaskTemplate = taskTemplateSchema.parse({
  id: 'lesion-images',
  name: 'Lesion on a scan',
  description: `Binary classification of small grayscale scans (${LESION_INPUT_SIZE}×${LESION_INPUT_SIZE}): does the scan show a lesion? A small convolutional network.`,
  label: { name: 'lesion', description: 'A lesion is visible on the scan', positive: 'lesion', negative: 'no lesion' },
  features: [],
  image: { width: LESION_INPUT_SIZE, height: LESION_INPUT_SIZE, channels: 1 },
  model: {
    inputShape: [LESION_INPUT_SIZE, LESION_INPUT_SIZE, 1],
    layers: [
      { type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' },
      { type: 'maxPooling2d', poolSize: 2 },
      { type: 'conv2d', filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' },
      { type: 'maxPooling2d', poolSize: 2 },
      { type: 'flatten' },
      { type: 'dense', units: 32, activation: 'relu' },
      { type: 'dense', units: 1, activation: 'sigmoid' },
    ],
    loss: 'binaryCrossentropy',
    optimizer: 'adam',
  },
  defaults: {
    rounds: 10,
    minParticipants: 3,
    roundDeadlineMs: 300_000,
    localEpochs: 2,
    // A site holds a few hundred scans: small batches give the CNN enough steps per epoch.
    batchSize: 16,
    learningRate: 0.003,
    validationFraction: 0.2,
    seed: 2028,
    // About the median first-round update norm of the simulated demo sites (round 1: 1.3–1.7); adaptive clipping follows the norms from there.
    clipping: { mode: 'adaptive', initialNorm: 1.5 },
  },
});

/**
 * Version 2: the same scans into a residual network shaped like ResNet-18 (a stem convolution, four
 * stages of two basic blocks, global average pooling, the output unit), for sites that train on a
 * GPU. ResNet-18's widths are 64/128/256/512 for 224×224 colour photographs (11 million weights);
 * these scans are 32×32 grayscale and a site holds a few hundred, so the widths are a quarter of
 * those, 16/32/64/128 (about 0.7 million weights, 2.8 MB an update). As for CIFAR's 32×32 images the
 * stem is one 3×3 convolution without the 7×7 stride-2 one and the max-pooling, so the four stages
 * see 32, 16, 8 and 4 pixels a side rather than a 1-pixel map at the end.
 */
export const lesionImagesV2: TaskTemplate = taskTemplateSchema.parse({
  ...lesionImages,
  id: templateVersionId(lesionImages.id, 2),
  version: 2,
  alternative: 'residual network, for sites with a GPU',
  changes: 'A residual network (ResNet-18-like: 8 residual blocks, widths 16–128, GroupNorm) in place of the small CNN, for sites with a GPU.',
  description: `Binary classification of small grayscale scans (${LESION_INPUT_SIZE}×${LESION_INPUT_SIZE}): does the scan show a lesion? A residual network like ResNet-18, for sites that train on a GPU.`,
  model: {
    inputShape: [LESION_INPUT_SIZE, LESION_INPUT_SIZE, 1],
    layers: [
      { type: 'conv2d', filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' },
      { type: 'residualBlock', filters: 16 },
      { type: 'residualBlock', filters: 16 },
      { type: 'residualBlock', filters: 32, strides: 2 },
      { type: 'residualBlock', filters: 32 },
      { type: 'residualBlock', filters: 64, strides: 2 },
      { type: 'residualBlock', filters: 64 },
      { type: 'residualBlock', filters: 128, strides: 2 },
      { type: 'residualBlock', filters: 128 },
      { type: 'globalAveragePooling2d' },
      { type: 'dense', units: 1, activation: 'sigmoid' },
    ],
    loss: 'binaryCrossentropy',
    optimizer: 'adam',
  },
});
