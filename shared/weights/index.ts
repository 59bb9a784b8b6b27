export * from './codec';
export { crc32 } from './crc32';
