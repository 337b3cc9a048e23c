import { loadConfig } from '../../config';
import { DomainError, ErrorCode } from '../../domain';
import { type IdentityService } from '../identity/identity.service';
import { HostGuard } from '../outbound/host-guard';
import { type HostResolver } from '../outbound/host-resolver';
import { type SecretStore } from '../secrets/secret-store';
import { type CreateEnvironmentDto } from './environment.dto';
import { type EnvironmentRepository } from './environment.repository';
import { EnvironmentService } from './environment.service';

const TRUSTED = 'https://login.example.com';
const profile = (over: Record<string, unknown> = {}) => ({
  issuer: TRUSTED,
  clientId: 'airlock-promoter',
  clientSecretName: 'promoter',
  services: ['registry.prod.example.com'],
  ...over,
});
const definition = (over: Partial<CreateEnvironmentDto> = {}): CreateEnvironmentDto => ({
  name: 'production',
  sources: [
    {
      registry: 'registry.staging.example.com',
      repositories: ['acme/*'],
      tokenRealms: ['https://auth.example.com/token'],
      redirectHosts: ['blobs.example.com'],
      credentials: profile(),
    },
  ],
  target: {
    registry: 'registry.prod.example.com',
    repository: 'prod/{repository}',
    credentials: profile(),
  },
  ...over,
});

function service(stale: Array<{ name: string; fields: string[] }> = []): EnvironmentService {
  const config = loadConfig({
    DATABASE_URL: 'postgres://u@localhost/airlock',
    REDIS_URL: 'redis://localhost:6379',
    AIRLOCK_SIGNING_KEY_FILE: '/keys/airlock.pem',
    AUDIT_CHECKPOINT_FILE: '/keys/checkpoints.jsonl',
    AIRLOCK_ALLOWED_HOSTS: '*.example.com,registry.*.example.com',
  });
  const resolver = { addresses: async () => ['93.184.216.34'] } as unknown as HostResolver;
  const identity = {
    trustedIssuer: async (issuer: string) => (issuer === TRUSTED ? { issuer } : undefined),
  } as unknown as IdentityService;
  const secrets = {
    check: async (name: string) => {
      if (name !== 'promoter') throw new DomainError(ErrorCode.SecretNotAvailable, `no secret named ${name}`);
    },
  } as unknown as SecretStore;
  const repo = { withSecretFiles: async () => stale } as unknown as EnvironmentRepository;
  return new EnvironmentService(repo, undefined as never, identity, new HostGuard(config, resolver), secrets);
}

async function refusal(work: Promise<void>): Promise<DomainError> {
  const e = await work.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(DomainError);
  return e as DomainError;
}

describe(`${EnvironmentService.name}.checkDefinition`, () => {
  it('accepts allowed hosts, a trusted issuer and an available secret', async () => {
    await expect(service().checkDefinition(definition())).resolves.toBeUndefined();
  });

  const source = (over: Record<string, unknown>) => ({
    sources: [{ ...definition().sources[0], ...over }],
  });
  it.each([
    [
      'a source registry',
      source({ registry: 'registry.evil.com' }),
      'sources.0.registry',
      ErrorCode.HostNotAllowed,
    ],
    [
      'a token realm',
      source({ tokenRealms: ['https://evil.com/t'] }),
      'sources.0.tokenRealms.0',
      ErrorCode.HostNotAllowed,
    ],
    [
      'a redirect host',
      source({ redirectHosts: ['169.254.169.254'] }),
      'sources.0.redirectHosts.0',
      ErrorCode.HostNotAllowed,
    ],
    ['an insecure source', source({ insecure: true }), 'sources.0.registry', ErrorCode.HostNotAllowed],
    [
      'a source issuer on another host',
      source({ credentials: profile({ issuer: 'https://evil.com' }) }),
      'sources.0.credentials.issuer',
      ErrorCode.HostNotAllowed,
    ],
    [
      'an allowed but untrusted issuer',
      { target: { ...definition().target, credentials: profile({ issuer: 'https://other.example.com' }) } },
      'target.credentials.issuer',
      ErrorCode.HostNotAllowed,
    ],
    [
      'a missing secret',
      { target: { ...definition().target, credentials: profile({ clientSecretName: 'nope' }) } },
      'target.credentials.clientSecretName',
      ErrorCode.SecretNotAvailable,
    ],
    [
      'a target registry on loopback',
      { target: { ...definition().target, registry: '127.0.0.1:5000' } },
      'target.registry',
      ErrorCode.HostNotAllowed,
    ],
  ])('refuses %s, naming the field', async (_what, over, field, code) => {
    const e = await refusal(service().checkDefinition(definition(over)));
    expect(e.code).toBe(code);
    expect(e.details).toMatchObject({ field });
    expect(e.message.startsWith(`${field}: `)).toBe(true);
  });

  it('stops the process at start while a profile still names a secret file', async () => {
    await expect(service().onApplicationBootstrap()).resolves.toBeUndefined();
    await expect(
      service([{ name: 'legacy', fields: ['target.credentials'] }]).onApplicationBootstrap(),
    ).rejects.toThrow(/environment legacy \(target.credentials\).*clientSecretFile.*clientSecretName/);
  });
});
