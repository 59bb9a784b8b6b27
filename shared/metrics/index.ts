export * from './binary';
export * from './multiclass';
