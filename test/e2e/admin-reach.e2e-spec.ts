import { copyFileSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AirlockStack, developmentBootstrap } from '../../apps/devstack/stack';
import { Rig } from '../support/rig';
import { testEnv } from '../support/test-env';

/**
 * Issue #11, finding 1, replayed by an admin: a credential profile that named Airlock's signing key
 * as its "client secret file", with the issuer and source registry at a listener the admin runs,
 * made the API POST the key to that listener. Here every way to aim a secret at such a listener is
 * refused, and a real listener proves that nothing reached it.
 */

interface Listener {
  server: Server;
  port: number;
  requests: Array<{ method: string; url: string; body: string }>;
}

/** A loopback HTTP server that records every request; `handle` may answer, else 404. */
async function listen(
  handle?: (req: IncomingMessage, body: string) => [number, Record<string, string>, string] | undefined,
): Promise<Listener> {
  const requests: Listener['requests'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', body });
      const [status, headers, text] = handle?.(req, body) ?? [404, {}, ''];
      res.writeHead(status, headers).end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, requests };
}

const close = (l: Listener | undefined): Promise<void> =>
  new Promise((r) => (l ? l.server.close(() => r()) : r()));

describe('trust boundaries: secrets and outside hosts', () => {
  let rig: Rig;
  /** Plays the admin's token issuer and registry: it must never hear from Airlock. */
  let attacker: Listener;
  /** A trusted, allowed issuer whose discovery document names the attacker's token endpoint. */
  let issuer: Listener;
  /** A registry (allowed) that challenges for a token from `issuer`. */
  let registry: Listener;
  const uid = randomBytes(3).toString('hex');
  let signingKeyFile: string;

  beforeAll(async () => {
    attacker = await listen();
    let issuerUrl = '';
    issuer = await listen((req) =>
      req.url === '/.well-known/openid-configuration'
        ? [
            200,
            { 'content-type': 'application/json' },
            JSON.stringify({
              issuer: issuerUrl,
              token_endpoint: `http://127.0.0.1:${attacker.port}/token`,
              jwks_uri: `${issuerUrl}/jwks`,
            }),
          ]
        : undefined,
    );
    issuerUrl = `http://localhost:${issuer.port}`;
    registry = await listen((req) =>
      req.url?.startsWith('/v2/')
        ? [
            401,
            {
              'www-authenticate': `Bearer realm="${issuerUrl}/token",service="evil-registry",scope="repository:acme/app:pull"`,
              'content-type': 'application/json',
            },
            '{"errors":[{"code":"UNAUTHORIZED"}]}',
          ]
        : undefined,
    );
    const peoplePort = new URL(process.env.AIRLOCK_TEST_PEOPLE_ISSUER as string).port;
    rig = await Rig.start({
      // Loopback only where the operator named it: the people issuer (it grants registry tokens
      // in development), the fake issuer and registry on `localhost`; the attacker's port is not.
      AIRLOCK_ALLOWED_HOSTS: `127.0.0.1:${peoplePort},localhost:${issuer.port},localhost:${registry.port},*.example.com,*.*.example.com`,
    });
    signingKeyFile = join(process.env.AIRLOCK_TEST_DATA_DIR as string, rig.prefix, 'airlock-signing-key.pem');
    await rig.trustIssuer(`http://localhost:${issuer.port}`);
    await rig.writeSecret('promoter', 'the-real-promoter-secret');
  });
  afterAll(async () => {
    await rig?.stop();
    await Promise.all([close(attacker), close(issuer), close(registry)]);
  });

  const attackerIssuer = (): string => `http://127.0.0.1:${attacker.port}`;
  const profile = (over: Record<string, unknown> = {}) => ({
    issuer: rig.issuers.people,
    clientId: 'airlock-promoter',
    clientSecretName: 'promoter',
    services: ['airlock-registry'],
    ...over,
  });
  const create = (
    name: string,
    credentials: Record<string, unknown>,
    registryHost = 'registry.staging.example.com',
  ) =>
    rig.call('POST', '/v1/environments', {
      as: 'admin',
      body: {
        name: `${name}-${uid}`,
        sources: [{ registry: registryHost, repositories: ['acme/*'], insecure: true, credentials }],
        target: { registry: 'registry.prod.example.com', repository: 'prod/{repository}', credentials },
      },
    });

  it('the finding as reported: a profile naming the signing key file is refused with 400, saying what to use', async () => {
    const res = await create(
      'replay',
      {
        ...profile({ issuer: attackerIssuer() }),
        clientSecretName: undefined,
        clientSecretFile: signingKeyFile,
      },
      `127.0.0.1:${attacker.port}`,
    );
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.detail).toContain('clientSecretFile is no longer accepted');
    expect(res.body.detail).toContain('clientSecretName');
  });

  it('names that are paths are refused (400)', async () => {
    for (const name of [signingKeyFile, '../airlock-signing-key.pem', 'airlock-signing-key.pem']) {
      const res = await create('path', profile({ clientSecretName: name }));
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(
        'sources.0.credentials.clientSecretName',
      );
    }
  });

  it('the signing key through a link in the secrets folder, or a copy of it, is refused (422)', async () => {
    symlinkSync(signingKeyFile, join(rig.secretsDir, `key-link-${uid}`));
    copyFileSync(signingKeyFile, join(rig.secretsDir, `key-copy-${uid}`));
    writeFileSync(
      join(rig.secretsDir, `key-inline-${uid}`),
      `secret=${readFileSync(signingKeyFile, 'utf8')}`,
    );
    for (const name of [`key-link-${uid}`, `key-copy-${uid}`, `key-inline-${uid}`]) {
      const res = await create(`key-${name.split('-')[1]}`, profile({ clientSecretName: name }));
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('secret_not_available');
      expect(JSON.stringify(res.body)).not.toContain('PRIVATE KEY');
    }
  });

  it('a secret nobody provides is 422 secret_not_available, naming where to provide it', async () => {
    const res = await create('missing', profile({ clientSecretName: `missing-${uid}` }));
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('secret_not_available');
    expect(res.body.detail).toContain('AIRLOCK_SECRETS_DIR');
  });

  it('an issuer or registry at a loopback listener that is not allowed, or not trusted, is 422', async () => {
    const cases: Array<[string, Record<string, unknown>, string | undefined, string]> = [
      [
        'issuer not allowed',
        profile({ issuer: attackerIssuer() }),
        undefined,
        'sources.0.credentials.issuer',
      ],
      ['registry not allowed', profile(), `127.0.0.1:${attacker.port}`, 'sources.0.registry'],
      // Allowed host, but nobody trusted it as an issuer.
      [
        'issuer not trusted',
        profile({ issuer: `http://localhost:${registry.port}` }),
        undefined,
        'sources.0.credentials.issuer',
      ],
    ];
    for (const [what, credentials, host, field] of cases) {
      const res = await create(what.replace(/ /g, '-'), credentials, host);
      expect({ what, status: res.status, code: res.body.code, field: res.body.details?.field }).toEqual({
        what,
        status: 422,
        code: 'host_not_allowed',
        field,
      });
    }
    const [{ n }] = await rig.sql(`SELECT count(*)::int AS n FROM environment WHERE name LIKE $1`, [
      `%-${uid}`,
    ]);
    expect(n).toBe(0);
  });

  it("a trusted issuer's discovery document cannot send the secret to another host", async () => {
    const name = `discovery-${uid}`;
    const credentials = profile({ issuer: `http://localhost:${issuer.port}`, services: ['evil-registry'] });
    // Proposed by one admin, applied by another (four eyes on trust): both checks passed.
    const env = await rig.trustChange('POST', '/v1/environments', {
      name,
      sources: [
        { registry: `localhost:${registry.port}`, repositories: ['acme/*'], insecure: true, credentials },
      ],
      target: { registry: 'registry.prod.example.com', repository: 'prod/{repository}' },
    });
    expect(env).toMatchObject({ name });
    await rig
      .call('POST', `/v1/environments/${name}/policies`, {
        as: 'admin',
        body: { document: { approvals: { required: 0 } } },
      })
      .then((v) =>
        rig.call('POST', `/v1/environments/${name}/policies/${v.body.version}/activate`, { as: 'admin2' }),
      );
    // The tag is resolved at intake: the registry challenges, the issuer is discovered, and the
    // token endpoint it names (the attacker's) is refused before the secret is read.
    const res = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact: `localhost:${registry.port}/acme/app:v1`, environment: name },
    });
    expect(res.status).not.toBe(201);
    expect(JSON.stringify(res.body)).not.toContain('the-real-promoter-secret');
    expect(registry.requests.length).toBeGreaterThan(0);
    expect(issuer.requests.map((r) => r.url)).toEqual(['/.well-known/openid-configuration']);
    expect(res.body.detail).toContain('token endpoint');
    const log = readFileSync(
      join(process.env.AIRLOCK_TEST_DATA_DIR as string, rig.prefix, 'api.log'),
      'utf8',
    );
    expect(log).not.toContain('the-real-promoter-secret');
  });

  it('the listener that would have received the secret received nothing', () => {
    expect(attacker.requests).toEqual([]);
  });

  it('a secrets folder holding a link to the signing key stops Airlock at start', async () => {
    const stack = new AirlockStack({
      dataDir: join(process.env.AIRLOCK_TEST_DATA_DIR as string, `${rig.prefix}-bad-secrets`),
      databaseUrl: process.env.AIRLOCK_TEST_DATABASE_URL as string,
      redisUrl: testEnv().redisUrl,
      redisPrefix: `${rig.prefix}-bad`,
      bootstrap: developmentBootstrap(rig.issuers),
      mode: 'test',
      env: { WORKER_QUEUES: 'maintenance' },
    });
    symlinkSync(join(stack.secretsDir, '..', 'airlock-signing-key.pem'), join(stack.secretsDir, 'promoter'));
    await expect(stack.startApi()).rejects.toThrow(
      /AIRLOCK_SECRETS_DIR .* holds promoter, which is one of Airlock/,
    );
    await stack.stop();
  });
});
