import { LRUCache } from 'lru-cache';

/** Where the shared counts live (Redis): one count per key and fixed window. */
export interface CountStore {
  /**
   * Adds `n` to the key's count, starting its window of `windowMs` when the key is new, and
   * answers the count after the addition and the milliseconds left in the window.
   */
  add(key: string, n: number, windowMs: number): Promise<{ count: number; ttlMs: number }>;
}

/** What one request's spending came to. */
export interface Spent {
  /** False once the budget of the window is used up. */
  allowed: boolean;
  max: number;
  /** What is left of the budget after this request, as far as this process knows. */
  remaining: number;
  /** Seconds until the window ends. */
  resetSeconds: number;
}

export interface LeasedCounterOptions {
  windowMs: number;
  /** Keys (callers, addresses) whose leases are held at once; the least recent one is dropped. */
  maxKeys: number;
  now?: () => number;
}

/** A lease never exceeds this many requests, whatever the budget. */
const LEASE_CAP = 1_000;

/** A lease handed out within this time was too small: the next one is twice as large. */
const GROW_WITHIN_MS = 1_000;

/**
 * The most requests a process takes from the shared count at once: a hundredth of the budget (at
 * most LEASE_CAP), and one at a time for budgets under 200, which are then counted exactly.
 */
export const leaseSize = (max: number): number => Math.min(LEASE_CAP, Math.max(1, Math.floor(max / 100)));

interface Lease {
  /** The next number of the shared count this process may hand out, and the last one. */
  next: number;
  last: number;
  /** How many numbers were taken, and when. */
  size: number;
  takenAt: number;
  windowEndsAt: number;
  /** The shared count had passed the budget: refuse until the window ends, without asking again. */
  exhausted: boolean;
  /** A lease being taken: requests that find none left wait for it instead of taking their own. */
  taking?: Promise<void>;
}

/**
 * Fixed-window request budgets shared by every process (API replica), with one round trip to the
 * store per lease instead of per request: a process takes a run of numbers of a key's shared count
 * at once and hands them out to requests itself. A key's first lease is one number; a lease used up
 * within a second is followed by one twice as large (up to `leaseSize(max)`), any other by one half
 * as large, so only a busy caller holds many numbers. No request goes over the budget (numbers are
 * taken from the shared count before they are handed out); numbers a process took and did not hand
 * out before the window ended are lost, so a window may admit up to one lease per process fewer
 * than the budget. Errors of the store are the caller's to handle (fail open).
 */
export class LeasedCounter {
  private readonly leases: LRUCache<string, Lease>;
  private readonly now: () => number;

  constructor(
    private readonly store: CountStore,
    private readonly options: LeasedCounterOptions,
  ) {
    this.leases = new LRUCache<string, Lease>({ max: options.maxKeys });
    this.now = options.now ?? Date.now;
  }

  async spend(key: string, max: number): Promise<Spent> {
    for (;;) {
      const now = this.now();
      const lease = this.leases.get(key);
      if (lease && lease.windowEndsAt <= now && !lease.taking) {
        // Its window is over: what is left of it is void; its size still says how busy the key is.
        lease.next = lease.last + 1;
        lease.exhausted = false;
      }
      if (lease?.taking) {
        await lease.taking;
        continue;
      }
      const resetSeconds = lease ? Math.max(1, Math.ceil((lease.windowEndsAt - now) / 1000)) : 1;
      if (lease && lease.next <= lease.last) {
        const n = lease.next++;
        return { allowed: true, max, remaining: Math.max(0, max - n), resetSeconds };
      }
      if (lease?.exhausted) return { allowed: false, max, remaining: 0, resetSeconds };
      await this.take(key, max, lease);
    }
  }

  /** Takes a new lease for `key` from the store; concurrent requests for the key wait for it. */
  private take(key: string, max: number, spent: Lease | undefined): Promise<void> {
    const size = this.nextSize(max, spent);
    const placeholder: Lease = spent ?? {
      next: 1,
      last: 0,
      size: 0,
      takenAt: 0,
      windowEndsAt: 0,
      exhausted: false,
    };
    const taking = this.store.add(key, size, this.options.windowMs).then(
      ({ count, ttlMs }) => {
        const now = this.now();
        this.leases.set(key, {
          next: count - size + 1,
          last: Math.min(count, max),
          size,
          takenAt: now,
          windowEndsAt: now + ttlMs,
          exhausted: count >= max,
        });
      },
      (e: unknown) => {
        // Nothing was taken: the next request asks the store again.
        if (this.leases.get(key) === placeholder) this.leases.delete(key);
        throw e;
      },
    );
    placeholder.taking = taking;
    this.leases.set(key, placeholder);
    return taking;
  }

  private nextSize(max: number, spent: Lease | undefined): number {
    if (!spent || spent.size === 0) return 1;
    const grow = this.now() - spent.takenAt < GROW_WITHIN_MS;
    return Math.min(leaseSize(max), grow ? spent.size * 2 : Math.max(1, Math.floor(spent.size / 2)));
  }
}
