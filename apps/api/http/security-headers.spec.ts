import fastifyHelmet from '@fastify/helmet';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { HELMET_OPTIONS, securityHeaders } from './security-headers';

describe('securityHeaders', () => {
  it('are the headers @fastify/helmet sets with the same options', async () => {
    const fastify = new FastifyAdapter().getInstance();
    await fastify.register(fastifyHelmet, { global: true, ...HELMET_OPTIONS });
    fastify.get('/', async () => ({}));
    const url = await fastify.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(url);
    await res.arrayBuffer();
    await fastify.close();
    const computed = securityHeaders();
    expect(Object.keys(computed).length).toBeGreaterThanOrEqual(10);
    const fromPlugin = Object.fromEntries(Object.keys(computed).map((name) => [name, res.headers.get(name)]));
    expect(fromPlugin).toEqual(computed);
    expect(computed).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
  });
});
