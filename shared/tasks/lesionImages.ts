import { taskTemplateSchema, type TaskTemplate } from './spec';

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
