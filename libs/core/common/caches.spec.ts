import { boundedCache, CACHE_BOUNDS, type CacheBounds, sharedPromise } from './caches';

describe(boundedCache.name, () => {
  it('holds at most max entries, dropping the least recently used', () => {
    const cache = boundedCache<string, number>({ max: 2 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    expect([...cache.keys()].sort()).toEqual(['a', 'c']);
  });

  it('never serves an entry past its time bound', async () => {
    const cache = boundedCache<string, number>({ max: 10, ttlMs: 20 });
    cache.set('a', 1);
    expect(cache.get('a')).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(cache.get('a')).toBeUndefined();
  });

  it('lets one entry have a shorter bound (a token that expires sooner)', async () => {
    const cache = boundedCache<string, number>({ max: 10, ttlMs: 60_000 });
    cache.set('short', 1, { ttl: 20 });
    cache.set('long', 2);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(cache.get('short')).toBeUndefined();
    expect(cache.get('long')).toBe(2);
  });

  it.each(Object.entries(CACHE_BOUNDS) as Array<[string, CacheBounds]>)(
    '%s has positive integer bounds',
    (_name, bounds) => {
      expect(Number.isSafeInteger(bounds.max) && bounds.max > 0).toBe(true);
      if (bounds.ttlMs !== undefined)
        expect(Number.isSafeInteger(bounds.ttlMs) && bounds.ttlMs > 0).toBe(true);
    },
  );
});

describe(sharedPromise.name, () => {
  it('runs one load for callers that arrive together', async () => {
    const cache = boundedCache<string, Promise<string>>({ max: 10 });
    let loads = 0;
    const load = async () => {
      loads++;
      return 'metadata';
    };
    const answers = await Promise.all([sharedPromise(cache, 'k', load), sharedPromise(cache, 'k', load)]);
    expect(answers).toEqual(['metadata', 'metadata']);
    expect(await sharedPromise(cache, 'k', load)).toBe('metadata');
    expect(loads).toBe(1);
  });

  it('forgets a failure, so the next caller tries again', async () => {
    const cache = boundedCache<string, Promise<string>>({ max: 10 });
    await expect(sharedPromise(cache, 'k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(cache.has('k')).toBe(false);
    expect(await sharedPromise(cache, 'k', async () => 'up')).toBe('up');
  });
});
