export * from './dataset';
export * from './deltas';
export * from './split';
export * from './model';
export * from './train';
export * from './evaluate';
export * from './central';
export * from './federatedSim';
