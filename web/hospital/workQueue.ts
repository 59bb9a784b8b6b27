/** Runs jobs one after another: a round's training and a version's evaluation never overlap. */
export class WorkQueue {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  enqueue(job: () => Promise<void>): void {
    this.pending++;
    this.tail = this.tail
      .then(job)
      .catch((e) => console.error('[consilium] job failed', e))
      .finally(() => {
        this.pending--;
      });
  }

  get size(): number {
    return this.pending;
  }
}
