import { FreshRead } from './fresh-read';

/** A source whose reads answer only when the test says, with the value committed at that time. */
class Source {
  committed = 1;
  started = 0;
  private pending: Array<() => void> = [];
  read = (): Promise<number> =>
    new Promise((resolve, reject) => {
      this.started += 1;
      this.pending.push(() => (this.committed < 0 ? reject(new Error('down')) : resolve(this.committed)));
    });
  answer(): void {
    this.pending.shift()?.();
  }
  get waiting(): number {
    return this.pending.length;
  }
}

const flush = () => new Promise((r) => setImmediate(r));

describe(FreshRead.name, () => {
  it('answers a caller with a read that started after it called, never one already under way', async () => {
    const source = new Source();
    const fresh = new FreshRead(source.read);
    const first = fresh.get();
    // Something commits while the first read is under way; then two more callers arrive.
    source.committed = 2;
    const second = fresh.get();
    const third = fresh.get();
    expect(source.started).toBe(1); // the next read waits for the running one
    source.committed = 3;
    source.answer();
    expect(await first).toBe(3);
    await flush();
    expect(source.started).toBe(2); // one read for both waiting callers
    source.answer();
    expect(await second).toBe(3);
    expect(await third).toBe(3);
  });

  it('starts at once when nothing is running, and after a failed read too', async () => {
    const source = new Source();
    const fresh = new FreshRead(source.read);
    source.committed = -1;
    const failing = fresh.get();
    const waiting = fresh.get();
    source.answer();
    await expect(failing).rejects.toThrow('down');
    source.committed = 4;
    await flush();
    source.answer();
    expect(await waiting).toBe(4);
    const later = fresh.get();
    expect(source.waiting).toBe(1);
    source.answer();
    expect(await later).toBe(4);
  });
});
