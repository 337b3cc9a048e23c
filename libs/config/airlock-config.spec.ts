import { childProcessEnvironment, ConfigError, loadConfig, RuntimeMode } from './airlock-config';

const valid = {
  DATABASE_URL: 'postgres://u@localhost/airlock',
  REDIS_URL: 'redis://localhost:6379',
  AIRLOCK_SIGNING_KEY_FILE: '/keys/airlock.pem',
  AUDIT_CHECKPOINT_FILE: '/var/lib/airlock/checkpoints.jsonl',
};

describe(loadConfig.name, () => {
  it('applies defaults and converts numbers', () => {
    const c = loadConfig({ ...valid, API_PORT: '9090' });
    expect(c.API_PORT).toBe(9090);
    expect(c.REDIS_PREFIX).toBe('airlock');
    expect(c.AIRLOCK_MODE).toBe(RuntimeMode.Production);
    expect(c.databaseMigrationUrl).toBe(valid.DATABASE_URL);
  });

  it.each([
    ['DATABASE_URL', { DATABASE_URL: undefined }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
    ['REDIS_URL', { REDIS_URL: undefined }],
    ['API_PORT', { API_PORT: 'eighty' }],
    ['API_PORT', { API_PORT: '70000' }],
    ['AIRLOCK_MODE', { AIRLOCK_MODE: 'staging' }],
    ['AUTH_ALLOW_INSECURE_ISSUERS', { AUTH_ALLOW_INSECURE_ISSUERS: 'yes' }],
    ['AIRLOCK_SIGNING_KEY_FILE', { AIRLOCK_SIGNING_KEY_FILE: undefined }],
  ])('names %s when it is missing or malformed', (name, override) => {
    expect(() => loadConfig({ ...valid, ...override })).toThrow(ConfigError);
    try {
      loadConfig({ ...valid, ...override });
    } catch (e) {
      expect((e as ConfigError).message).toContain(name);
    }
  });

  it('says a missing variable is missing, and a bad one breaks one rule', () => {
    const messageOf = (env: Record<string, string | undefined>): string => {
      try {
        loadConfig(env);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('loaded');
    };
    const missing = messageOf({ ...valid, AIRLOCK_SIGNING_KEY_FILE: undefined });
    expect(missing).toContain('AIRLOCK_SIGNING_KEY_FILE: is required but not set');
    expect(missing).not.toContain('longer than');
    const bad = messageOf({ ...valid, API_PORT: 'eighty' });
    expect(bad).toContain('API_PORT: ');
    expect(bad.split('\n').filter((l) => l.includes('API_PORT'))).toHaveLength(1);
    expect(bad).not.toMatch(/API_PORT: [^\n]*;/);
  });

  it('never echoes a URL that may hold a password', () => {
    try {
      loadConfig({ ...valid, DATABASE_URL: 'mysql://user:hunter2@db' });
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
    }
  });

  it('refuses insecure issuers in production', () => {
    expect(() => loadConfig({ ...valid, AUTH_ALLOW_INSECURE_ISSUERS: 'true' })).toThrow(/production/);
    expect(
      loadConfig({ ...valid, AUTH_ALLOW_INSECURE_ISSUERS: 'true', AIRLOCK_MODE: 'test' })
        .AUTH_ALLOW_INSECURE_ISSUERS,
    ).toBe(true);
  });
});

describe('AIRLOCK_ALLOWED_HOSTS at boot', () => {
  it('parses the patterns once', () => {
    const c = loadConfig({ ...valid, AIRLOCK_ALLOWED_HOSTS: 'registry.example.com,127.0.0.1:*' });
    expect(c.allowedHosts.map((p) => p.text)).toEqual(['registry.example.com', '127.0.0.1:*']);
    expect(c.privateHostsAllowed).toBe(false);
    expect(loadConfig({ ...valid, AIRLOCK_MODE: 'test' }).privateHostsAllowed).toBe(true);
    expect(loadConfig({ ...valid, AIRLOCK_ALLOW_PRIVATE_HOSTS: 'true' }).privateHostsAllowed).toBe(true);
  });

  it.each(['reg*.example.com', 'a.example.com:99999', 'a..b'])('stops on the bad pattern %p', (bad) => {
    expect(() => loadConfig({ ...valid, AIRLOCK_ALLOWED_HOSTS: `ok.example.com,${bad}` })).toThrow(
      /AIRLOCK_ALLOWED_HOSTS/,
    );
  });
});

describe(childProcessEnvironment.name, () => {
  it('keeps how to find programs and certificates, never configuration or secrets', () => {
    const env = childProcessEnvironment({
      DATABASE_URL: 'postgres://airlock:pw@db/airlock',
      AIRLOCK_SECRET_PROMOTER: 's3cret',
      NODE_EXTRA_CA_CERTS: '/etc/ssl/registry-ca.pem',
      TZ: 'UTC',
      PATH: undefined,
    });
    expect(env).toEqual({ NODE_EXTRA_CA_CERTS: '/etc/ssl/registry-ca.pem', TZ: 'UTC' });
  });
});
