import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { S3BlobStore, type S3BlobStoreOptions } from '../storage/s3BlobStore';

/**
 * A real S3-compatible server for tests (s3rver, on a free port, its objects in a temporary folder),
 * with one bucket made. `objects()` lists the bucket's keys with a fresh client, as another machine
 * would see them.
 */
export interface TestS3Server {
  options: S3BlobStoreOptions;
  /** A store on the bucket (`prefix` overrides the options' own). */
  store(prefix?: string): S3BlobStore;
  /** Stops the server; `dispose` removes its folder too. */
  stop(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startS3Server(bucket = 'consilium-test'): Promise<TestS3Server> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  let running = true;
  const options: S3BlobStoreOptions = {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    bucket,
    forcePathStyle: true,
    // s3rver's fixed test credentials: it checks every request's signature against them.
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  };
  const stop = async () => {
    if (!running) return;
    running = false;
    await server.close();
  };
  return {
    options,
    store: (prefix = options.prefix) => new S3BlobStore({ ...options, prefix }),
    stop,
    dispose: async () => {
      await stop();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
