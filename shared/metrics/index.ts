export * from './binary';
export * from './multiclass';
export * from './clinical';
