import { ParseUUIDPipe } from '@nestjs/common';
import { timeOrderedUuid } from './time-ordered-id';

describe('timeOrderedUuid', () => {
  it('is a version 7 UUID carrying the time, which the API accepts as an id', async () => {
    const at = Date.UTC(2026, 11, 7, 16, 0, 0, 123);
    const id = timeOrderedUuid(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
    await expect(new ParseUUIDPipe().transform(id, { type: 'param' })).resolves.toBe(id);
  });

  it('sorts by time, and differs within the same millisecond', () => {
    const ids = [1, 2, 3].map((ms) => timeOrderedUuid(1_700_000_000_000 + ms));
    expect([...ids].sort()).toEqual(ids);
    const same = new Set(Array.from({ length: 1000 }, () => timeOrderedUuid(1_700_000_000_000)));
    expect(same.size).toBe(1000);
  });
});
