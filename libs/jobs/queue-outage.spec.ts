import { Redis, ReplyError } from 'ioredis';
import { DomainError, ErrorCode, isOutage } from '../domain';
import { atQueueEdge, isQueueUnreachable } from './queue-outage';

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

describe('isQueueUnreachable', () => {
  it.each<[string, unknown]>([
    ['a closed connection', new Error('Connection is closed.')],
    [
      'a command that waited through its retries',
      new Error(
        'Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.',
      ),
    ],
    [
      'no connection and no offline queue',
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
    ],
    ['a command timeout', new Error('Command timed out')],
    ['Redis still loading after a restart', new ReplyError('LOADING Redis is loading the dataset in memory')],
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED')],
    ['a reset connection', withCode('read ECONNRESET', 'ECONNRESET')],
    ['by name', Object.assign(new Error('whatever'), { name: 'MaxRetriesPerRequestError' })],
  ])('recognises %s', (_name, e) => {
    expect(isQueueUnreachable(e)).toBe(true);
  });

  it.each<[string, unknown]>([
    [
      'a wrong-type reply',
      new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value'),
    ],
    ['CONFIG disabled', new ReplyError("ERR unknown command 'CONFIG', with args beginning with: ")],
    ['out of memory', new ReplyError("OOM command not allowed when used memory > 'maxmemory'.")],
    ['a domain error', new DomainError(ErrorCode.Conflict, 'x')],
    ['a bug', new TypeError('bug')],
  ])('leaves %s alone', (_name, e) => {
    expect(isQueueUnreachable(e)).toBe(false);
  });
});

describe('atQueueEdge', () => {
  it('turns a real unreachable Redis into queue_unavailable, without waiting for it to return', async () => {
    const redis = new Redis('redis://127.0.0.1:1/0', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    redis.on('error', () => undefined);
    const ended = new Promise((resolve) => redis.once('end', resolve));
    try {
      const e = await atQueueEdge(() => redis.ping()).catch((x: unknown) => x);
      expect(isOutage(e)).toBe(true);
      expect(e).toMatchObject({ code: ErrorCode.QueueUnavailable, details: { dependency: 'redis' } });
    } finally {
      redis.disconnect();
      await ended;
    }
  });
});
