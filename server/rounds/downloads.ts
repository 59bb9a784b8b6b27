import type { VersionTraffic } from '../../shared/protocol/roundDetail';

/**
 * Model bytes sent to the sites, per study and version, counted by this server process as the
 * model route streams them. Kept in memory: a few numbers per version, nothing written per
 * download. A restart starts the count again (`since` says when), and behind a load balancer each
 * process counts only what it served.
 */
export class ModelDownloads {
  private readonly counts = new Map<string, { downloads: number; bytes: number }>();
  readonly since: Date;

  constructor(now: number = Date.now()) {
    this.since = new Date(now);
  }

  private entry(studyId: string, version: number) {
    const key = `${studyId}\u0000${version}`;
    let e = this.counts.get(key);
    if (!e) this.counts.set(key, (e = { downloads: 0, bytes: 0 }));
    return e;
  }

  /**
   * `body`, counted as it is read: its bytes as they go, and one download once all `size` bytes
   * have gone (when the last chunk is handed on, before the client can have it), or at its end when
   * the size is not known.
   */
  count(studyId: string, version: number, body: ReadableStream<Uint8Array>, size: number | null = null): ReadableStream<Uint8Array> {
    const e = this.entry(studyId, version);
    let sent = 0;
    let counted = false;
    const done = () => {
      if (!counted) e.downloads += 1;
      counted = true;
    };
    return body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          e.bytes += chunk.byteLength;
          sent += chunk.byteLength;
          if (size !== null && sent >= size) done();
          controller.enqueue(chunk);
        },
        flush() {
          if (size === null) done();
        },
      }),
    );
  }

  of(studyId: string, version: number): VersionTraffic {
    const e = this.counts.get(`${studyId}\u0000${version}`);
    return { version, downloads: e?.downloads ?? 0, bytes: e?.bytes ?? 0 };
  }
}
