export * from './errors';
export * from './schemas';
export * from './events';
export * from './models';
export * from './studyAdmin';
export * from './riskModel';
export * from './accounts';
export * from './params';
