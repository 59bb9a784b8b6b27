export * from './fedavg';
export * from './roundPolicy';
export * from './updateChecks';
export * from './normalisation';
