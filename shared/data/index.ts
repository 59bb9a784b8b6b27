export * from './columnar';
export * from './fingerprint';
export * from './stats';
export * from './csv';
