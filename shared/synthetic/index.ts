export * from './rng';
export * from './heart';
export * from './hcv';
export * from './lesions';
