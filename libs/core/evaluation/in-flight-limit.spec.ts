import { DomainError, ErrorCode } from '../../domain';
import { InFlightLimit } from './in-flight-limit';

describe(InFlightLimit.name, () => {
  it('refuses work beyond the limit while the rest runs, and frees a slot when work ends, even by throwing', async () => {
    const limit = new InFlightLimit(2);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = limit.run(() => gate.then(() => 'a'));
    const b = limit.run(async () => {
      await gate;
      throw new Error('b failed');
    });
    await expect(limit.run(async () => 'c')).rejects.toMatchObject({ code: ErrorCode.RateLimited });
    release();
    await expect(a).resolves.toBe('a');
    await expect(b).rejects.toThrow('b failed');
    await expect(limit.run(async () => 'd')).resolves.toBe('d');
    expect(new DomainError(ErrorCode.RateLimited, 'x').permanent).toBe(false);
  });
});
