import { loadConfig } from '../../config';
import { DomainError, ErrorCode } from '../../domain';
import { HostGuard } from './host-guard';

const DNS: Record<string, string[]> = {
  'registry.example.com': ['93.184.216.34'],
  'auth.example.com': ['2606:4700::1111'],
  'inside.example.com': ['93.184.216.34', '10.0.0.7'],
  'metadata.example.com': ['169.254.169.254'],
  'v6-loopback.example.com': ['::1'],
};
const resolver = {
  addresses: async (name: string) => {
    const found = DNS[name];
    if (!found) throw new Error(`ENOTFOUND ${name}`);
    return found;
  },
};

const guard = (env: Record<string, string> = {}): HostGuard =>
  new HostGuard(
    loadConfig({
      DATABASE_URL: 'postgres://u@localhost/airlock',
      REDIS_URL: 'redis://localhost:6379',
      AIRLOCK_SIGNING_KEY_FILE: '/keys/airlock.pem',
      AUDIT_CHECKPOINT_FILE: '/keys/checkpoints.jsonl',
      AIRLOCK_ALLOWED_HOSTS: '*.example.com,127.0.0.1:*,localhost:*,10.0.0.5,[::1]:*,2130706433,*.localhost',
      ...env,
    }),
    resolver,
  );

async function refusal(work: Promise<void>): Promise<string> {
  const e = await work.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(DomainError);
  expect((e as DomainError).code).toBe(ErrorCode.HostNotAllowed);
  expect((e as DomainError).details).toMatchObject({ field: 'f' });
  return (e as DomainError).message;
}

describe(HostGuard.name, () => {
  describe('in production mode', () => {
    const g = guard();

    it.each([
      ['https://registry.example.com', 'url'],
      ['https://auth.example.com/realms/x', 'url'],
      ['registry.example.com', 'host'],
    ])('allows the public allowed host %s', async (value, kind) => {
      await expect(
        kind === 'url' ? g.checkUrl('f', value) : g.checkHost('f', value, false),
      ).resolves.toBeUndefined();
    });

    it.each([
      ['https://evil.com', 'not an allowed host'],
      ['https://registry.example.com:8443', 'not an allowed host'],
      ['https://a.b.example.com', 'not an allowed host'],
      ['http://registry.example.com', 'plain http'],
      ['https://127.0.0.1:5000', 'private or loopback address'],
      ['https://0x7f.0.0.1:5000', 'private or loopback address'], // canonicalised to 127.0.0.1
      ['https://localhost:4400', 'names this machine'],
      ['https://[::1]:4400', 'private or loopback'],
      ['https://10.0.0.5', 'private or loopback'],
      ['https://inside.example.com', 'resolves to the private or loopback address 10.0.0.7'],
      ['https://metadata.example.com', '169.254.169.254'],
      ['https://v6-loopback.example.com', '::1'],
      ['https://unknown.example.com', 'could not be resolved'],
      ['ftp://registry.example.com', 'only https'],
      ['https://user:pw@registry.example.com', 'user info'],
      ['not a url', 'not a URL'],
    ])('refuses %s', async (url, why) => {
      expect(await refusal(g.checkUrl('f', url))).toContain(why);
    });

    it('refuses an insecure registry and a private one', async () => {
      expect(await refusal(g.checkHost('f', 'registry.example.com', true))).toContain('plain http');
      expect(await refusal(g.checkHost('f', '127.0.0.1:5000', false))).toContain('loopback');
      expect(await refusal(g.checkHost('f', '2130706433', false))).toContain('loopback');
    });
  });

  describe('where private hosts are allowed', () => {
    it.each<Record<string, string>>([
      { AIRLOCK_MODE: 'development' },
      { AIRLOCK_MODE: 'test' },
      { AIRLOCK_ALLOW_PRIVATE_HOSTS: 'true' },
    ])('%o: loopback and plain http on allowed hosts, still nothing else', async (env) => {
      const g = guard(env);
      await expect(g.checkHost('f', '127.0.0.1:5000', true)).resolves.toBeUndefined();
      await expect(g.checkUrl('f', 'http://localhost:4400')).resolves.toBeUndefined();
      await expect(g.checkUrl('f', 'http://unknown.example.com')).resolves.toBeUndefined();
      expect(await refusal(g.checkUrl('f', 'http://127.0.0.2:4400'))).toContain('AIRLOCK_ALLOWED_HOSTS');
      expect(await refusal(g.checkHost('f', 'localhost.evil.com', true))).toContain('not an allowed host');
    });
  });

  it('allows nothing with an empty list', async () => {
    const g = guard({ AIRLOCK_ALLOWED_HOSTS: '', AIRLOCK_MODE: 'test' });
    expect(await refusal(g.checkHost('f', 'registry.example.com', false))).toContain('AIRLOCK_ALLOWED_HOSTS');
  });
});
