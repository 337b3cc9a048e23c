import { type CountStore, LeasedCounter, leaseSize } from './leased-counter';

/** Redis's side, in memory: one count per key and fixed window, on the test's clock. */
class FakeStore implements CountStore {
  readonly calls: Array<{ key: string; n: number }> = [];
  private readonly counts = new Map<string, { count: number; endsAt: number }>();
  failing = false;

  constructor(private readonly clock: { now: number }) {}

  async add(key: string, n: number, windowMs: number): Promise<{ count: number; ttlMs: number }> {
    this.calls.push({ key, n });
    if (this.failing) throw new Error('store down');
    let entry = this.counts.get(key);
    if (!entry || entry.endsAt <= this.clock.now) {
      entry = { count: 0, endsAt: this.clock.now + windowMs };
      this.counts.set(key, entry);
    }
    entry.count += n;
    return { count: entry.count, ttlMs: entry.endsAt - this.clock.now };
  }
}

const WINDOW_MS = 60_000;

function setup(): { clock: { now: number }; store: FakeStore; process: () => LeasedCounter } {
  const clock = { now: 1_000_000 };
  const store = new FakeStore(clock);
  const process = (): LeasedCounter =>
    new LeasedCounter(store, { windowMs: WINDOW_MS, maxKeys: 100, now: () => clock.now });
  return { clock, store, process };
}

async function spendMany(counter: LeasedCounter, key: string, max: number, n: number): Promise<boolean[]> {
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) out.push((await counter.spend(key, max)).allowed);
  return out;
}

describe(LeasedCounter.name, () => {
  it.each([
    [10, 1],
    [199, 1],
    [200, 2],
    [60_000, 600],
    [1_000_000_000, 1_000],
  ])('leases %i requests %i at a time', (max, size) => {
    expect(leaseSize(max)).toBe(size);
  });

  it('counts a small budget exactly, one round trip per request, with the remaining budget', async () => {
    const { store, process } = setup();
    const counter = process();
    const spent = [];
    for (let i = 0; i < 11; i++) spent.push(await counter.spend('caller:a', 10));
    expect(spent.map((s) => s.allowed)).toEqual([...Array(10).fill(true), false]);
    expect(spent.map((s) => s.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0]);
    expect(spent[10].resetSeconds).toBe(60);
    expect(store.calls).toHaveLength(10);
  });

  it('shares one budget between processes, never admitting more than it', async () => {
    const { process } = setup();
    const [a, b] = [process(), process()];
    const admitted: boolean[] = [];
    for (let i = 0; i < 1000; i++) admitted.push((await (i % 2 ? a : b).spend('caller:a', 500)).allowed);
    const count = admitted.filter(Boolean).length;
    // Each process may hold back one lease (5 requests) it took but did not hand out.
    expect(count).toBeLessThanOrEqual(500);
    expect(count).toBeGreaterThanOrEqual(500 - 2 * leaseSize(500));
  });

  it('asks the store once per lease, also for requests that arrive together', async () => {
    const { store, process } = setup();
    const counter = process();
    const results = await Promise.all(Array.from({ length: 40 }, () => counter.spend('caller:a', 1000)));
    expect(results.every((r) => r.allowed)).toBe(true);
    // Leases used up at once double, up to a hundredth of the budget.
    expect(store.calls.map((c) => c.n)).toEqual([1, 2, 4, 8, 10, 10, 10]);
    expect(new Set(results.map((r) => r.remaining)).size).toBe(40);
  });

  it('takes smaller leases again for a caller that slows down', async () => {
    const { clock, store, process } = setup();
    const counter = process();
    await spendMany(counter, 'caller:a', 100_000, 1 + 2 + 4 + 8);
    for (let i = 0; i < 3; i++) {
      clock.now += 2_000;
      await spendMany(counter, 'caller:a', 100_000, 1);
      // The last lease lasted beyond a second: this one is half as large.
      await spendMany(counter, 'caller:a', 100_000, store.calls[store.calls.length - 1].n - 1);
    }
    expect(store.calls.map((c) => c.n)).toEqual([1, 2, 4, 8, 4, 2, 1]);
  });

  it('refuses without asking the store again once the budget is spent, until the window ends', async () => {
    const { clock, store, process } = setup();
    const counter = process();
    expect(await spendMany(counter, 'address:x', 3, 5)).toEqual([true, true, true, false, false]);
    expect(store.calls).toHaveLength(3);
    clock.now += WINDOW_MS;
    expect(await spendMany(counter, 'address:x', 3, 1)).toEqual([true]);
    expect(store.calls).toHaveLength(4);
  });

  it('keeps budgets apart by key', async () => {
    const { process } = setup();
    const counter = process();
    expect(await spendMany(counter, 'caller:a', 2, 3)).toEqual([true, true, false]);
    expect(await spendMany(counter, 'caller:b', 2, 1)).toEqual([true]);
  });

  it("passes the store's failure on, and asks again on the next request", async () => {
    const { store, process } = setup();
    const counter = process();
    store.failing = true;
    await expect(counter.spend('caller:a', 10)).rejects.toThrow('store down');
    store.failing = false;
    expect((await counter.spend('caller:a', 10)).allowed).toBe(true);
    expect(store.calls).toHaveLength(2);
  });
});
