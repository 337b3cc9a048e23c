import { PassThrough } from 'node:stream';
import { closableWriter } from './output';

describe('closableWriter', () => {
  it('drops writes once the stream failed, instead of raising an unhandled error', async () => {
    const stream = new PassThrough();
    const writer = closableWriter(stream);
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    stream.destroy(epipe);
    await new Promise((resolve) => setImmediate(resolve));
    let flushed = false;
    expect(writer.write('late\n', () => (flushed = true))).toBe(false);
    expect(flushed).toBe(true);
  });
});
