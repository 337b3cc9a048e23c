/**
 * A read whose answer is never older than the call: a caller arriving while a read is under way
 * (which may have started before something the caller depends on committed) waits for the next
 * read, which all callers arriving meanwhile share. So at most one read runs at a time and at most
 * one waits, however many callers there are.
 */
export class FreshRead<T> {
  private running: Promise<T> | undefined;
  private queued: Promise<T> | undefined;

  constructor(private readonly read: () => Promise<T>) {}

  get(): Promise<T> {
    if (!this.running) return this.start();
    const next = (): Promise<T> => {
      this.queued = undefined;
      return this.start();
    };
    this.queued ??= this.running.then(next, next);
    return this.queued;
  }

  private start(): Promise<T> {
    const running = this.read().finally(() => {
      if (this.running === running) this.running = undefined;
    });
    this.running = running;
    return running;
  }
}
