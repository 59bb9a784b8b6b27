import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BlobMissingError, type BlobStore, type BlobWriter, type StoredBlob } from './blobStore';

export interface S3BlobStoreOptions {
  /** An S3-compatible server's URL (MinIO, Ceph, Garage…); omitted means AWS itself. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Put before every object's key (`consilium/` keeps a shared bucket tidy). */
  prefix?: string;
  /** `endpoint/bucket/key` rather than `bucket.endpoint/key`: what most self-hosted servers need. */
  forcePathStyle?: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

const HASH = /^[0-9a-f]{64}$/;
/** A writer keeps up to this many bytes in memory; past it, the blob goes to a temporary file. */
const HELD_BYTES = 1024 * 1024;

/**
 * The blob store on S3-compatible object storage, for several server processes on several machines:
 * one object per blob, keyed by `prefix + sha256`. An object appears whole or not at all (PutObject is
 * atomic), and once PutObject answers it is durable, which is what `commit` promises. No
 * `readRangeSync`: a round's fold reads through `readRange`.
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private written = 0;

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: options.forcePathStyle ?? Boolean(options.endpoint),
      credentials: options.credentials,
      // The flexible checksums (CRC32 trailers) are AWS's; many S3-compatible servers refuse them.
      // Content addressing already names every object by its SHA-256.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
    });
  }

  private keyOf(sha256: string): string {
    if (!HASH.test(sha256)) throw new Error(`not a SHA-256 hex digest: '${sha256}'`);
    return this.prefix + sha256;
  }

  writer(): BlobWriter {
    const file = path.join(os.tmpdir(), `consilium-s3-${process.pid}-${(this.written++).toString(36)}-${Date.now().toString(36)}`);
    const hash = createHash('sha256');
    let held: Uint8Array[] | null = [];
    let size = 0;
    let handle: fsp.FileHandle | null = null;
    let done = false;
    const dropFile = async () => {
      await handle?.close().catch(() => undefined);
      handle = null;
      if (!held) await fsp.rm(file, { force: true });
    };
    return {
      write: async (chunk) => {
        if (done) throw new Error('blob writer already finished');
        hash.update(chunk);
        size += chunk.byteLength;
        if (held && size <= HELD_BYTES) {
          // Copied: the caller may reuse its buffer.
          held.push(chunk.slice());
          return;
        }
        if (held) {
          handle = await fsp.open(file, 'wx');
          const pending = held;
          held = null;
          for (const c of pending) await handle.write(c);
        }
        await handle!.write(chunk);
      },
      commit: async () => {
        if (done) throw new Error('blob writer already finished');
        done = true;
        const sha256 = hash.digest('hex');
        try {
          if ((await this.size(sha256)) !== size) {
            if (held) await this.putObject(sha256, Buffer.concat(held), size);
            else {
              await handle!.close();
              handle = null;
              await this.putObject(sha256, fs.createReadStream(file), size);
            }
          }
        } finally {
          await dropFile();
        }
        return { sha256, bytes: size };
      },
      abort: async () => {
        if (done) return;
        done = true;
        await dropFile();
      },
    };
  }

  private async putObject(sha256: string, body: Buffer | fs.ReadStream, length: number): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256), Body: body, ContentLength: length, ContentType: 'application/octet-stream' }),
    );
  }

  async put(bytes: Uint8Array): Promise<StoredBlob> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if ((await this.size(sha256)) !== bytes.byteLength) await this.putObject(sha256, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), bytes.byteLength);
    return { sha256, bytes: bytes.byteLength };
  }

  async read(sha256: string): Promise<Uint8Array> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }));
      return await res.Body!.transformToByteArray();
    } catch (err) {
      throw missing(err, sha256);
    }
  }

  async readRange(sha256: string, offset: number, out: Uint8Array): Promise<void> {
    if (out.byteLength === 0) {
      if ((await this.size(sha256)) === null) throw new BlobMissingError(sha256);
      return;
    }
    const short = () => new Error(`blob ${sha256.slice(0, 12)}… ends before byte ${offset + out.byteLength}`);
    let got: Uint8Array;
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256), Range: `bytes=${offset}-${offset + out.byteLength - 1}` }),
      );
      got = await res.Body!.transformToByteArray();
    } catch (err) {
      // 416: the range starts past the end.
      if (statusOf(err) === 416) throw short();
      throw missing(err, sha256);
    }
    if (got.byteLength < out.byteLength) throw short();
    out.set(got.subarray(0, out.byteLength));
  }

  stream(sha256: string): ReadableStream<Uint8Array> {
    let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
    const open = async () => {
      try {
        const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }));
        return res.Body!.transformToWebStream().getReader() as ReadableStreamDefaultReader<Uint8Array>;
      } catch (err) {
        throw missing(err, sha256);
      }
    };
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        reader ??= await open();
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: async (reason) => {
        await reader?.cancel(reason);
      },
    });
  }

  async size(sha256: string): Promise<number | null> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }));
      return res.ContentLength ?? 0;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  async delete(sha256: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }));
  }

  /** Every blob's hash and size, page by page (1000 keys a request). */
  private async objects(): Promise<{ sha256: string; size: number }[]> {
    const found: { sha256: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix || undefined, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        const name = o.Key?.slice(this.prefix.length) ?? '';
        if (HASH.test(name)) found.push({ sha256: name, size: o.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found;
  }

  async list(): Promise<string[]> {
    return (await this.objects()).map((o) => o.sha256).sort();
  }

  async bytes(): Promise<number> {
    return (await this.objects()).reduce((sum, o) => sum + o.size, 0);
  }

  async ping(): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function missing(err: unknown, sha256: string): Error {
  const name = (err as Error)?.name;
  return statusOf(err) === 404 || name === 'NoSuchKey' || name === 'NotFound' ? new BlobMissingError(sha256) : (err as Error);
}
