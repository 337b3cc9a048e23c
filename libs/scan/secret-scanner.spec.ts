import { createHash } from 'node:crypto';
import { findHighEntropyAssignments, isSecretName } from './secret-rules';
import { fingerprintSecret, maskSecret, scanFileForSecrets, syntheticSource } from './secret-scanner';
import { fakeSecrets, secretFiles } from '../../test/support/layer-fixtures';

const LAYER = `sha256:${'a'.repeat(64)}`;

describe('scanFileForSecrets', () => {
  const secrets = fakeSecrets();

  it.each(secretFiles(secrets).map((f) => [f.rule, f] as const))('finds %s', async (_, file) => {
    const findings = await scanFileForSecrets({ path: file.path, content: Buffer.from(file.content) }, LAYER);
    const expected = {
      rule: file.rule,
      layer: LAYER,
      path: file.path,
      fingerprint: createHash('sha256').update(file.secret).digest('hex').slice(0, 16),
      fix: `remove ${file.path} from the image (a later layer deleting it does not remove it from earlier layers) and rotate the credential`,
    };
    expect(findings).toContainEqual(expect.objectContaining(expected));
    const f = findings.find((x) => x.rule === file.rule)!;
    expect(f.line).toBe(
      file.content.slice(0, file.content.indexOf(file.secret.split('\n')[0])).split('\n').length,
    );
    expect(f.title).not.toBe('');
    expect(JSON.stringify(findings)).not.toContain(file.secret);
  });

  it('masks previews', () => {
    expect(maskSecret(secrets.githubToken)).toBe(`ghp_…${secrets.githubToken.slice(-4)} ****`);
    expect(maskSecret(secrets.privateKeyPem)).toBe('-----BEGIN PRIVATE KEY----- ****');
    expect(maskSecret('https://admin:hunter2hunter2@db.example.com/x')).toBe(
      'https://admin:****@db.example.com/x',
    );
    expect(maskSecret('short-secret')).toBe('****');
    expect(fingerprintSecret('abc')).toBe('ba7816bf8f01cfea');
  });

  it('does not let the file silence the scan with secretlint-disable comments', async () => {
    const content = `# secretlint-disable\ntoken: ${secrets.githubToken}\n`;
    const findings = await scanFileForSecrets({ path: 'srv/ci.yaml', content }, LAYER);
    expect(findings.map((f) => f.rule)).toContain('github/GITHUB_TOKEN');
  });

  it('reports AWS access keys, not account IDs', async () => {
    const findings = await scanFileForSecrets(
      { path: 'a.env', content: 'AWS_ACCOUNT_ID=123456789012\n' },
      LAYER,
    );
    expect(findings).toEqual([]);
  });

  it('never hands secretlint a path it could open on this host', () => {
    // The GCP rule reads the host file at filePath when ext is `.p12`.
    for (const path of ['etc/ssl/keys/service.p12', 'tmp/../../etc/passwd', 'keys/a.P12']) {
      const source = syntheticSource(path, '');
      expect(source.ext).not.toMatch(/p12/i);
      expect(source.filePath.startsWith('\0')).toBe(true);
      expect(source.filePath.endsWith(path)).toBe(true);
    }
    expect(syntheticSource('sa/key.json', '').ext).toBe('.json');
  });

  it('finds nothing in ordinary files', async () => {
    const files = [
      'const token = this.tokenService.createAccessToken(user);\nconst password = process.env.DB_PASSWORD;\n',
      'TOKEN_URL=https://auth.example.com/oauth/token\nPASSWORD_FILE=/run/secrets/db_password\n',
      'api_key: ${API_KEY}\nsecret: changeme-changeme-changeme\nprimary_key = a1b2c3d4e5f6a7b8c9d0e1f2\n',
      '{"name": "app", "version": "1.2.3", "integrity": "sha512-3fae5b6f1b7c9d8e2a4f6b8d0c2e4a6f8b0d2c4e6a8"}\n',
      'monkey = Ab3dEf6hIj9kLm2nOp5q\n',
    ];
    for (const content of files)
      expect(await scanFileForSecrets({ path: 'srv/app.txt', content }, LAYER)).toEqual([]);
  });
});

describe('the entropy rule', () => {
  it('tells secret names from others', () => {
    for (const n of [
      'SECRET_KEY',
      'DB_PASSWORD',
      'client_secret',
      'apiKey',
      'masterKey',
      'GITHUB_TOKEN',
      'API_KEY',
    ])
      expect([n, isSecretName(n)]).toEqual([n, true]);
    for (const n of [
      'TOKEN_URL',
      'SECRET_NAME',
      'tokenizer',
      'publicKey',
      'PUBLIC_KEY',
      'monkey',
      'token_type',
      'name',
    ])
      expect([n, isSecretName(n)]).toEqual([n, false]);
  });

  it('leaves values over 1000 characters alone', () => {
    expect(findHighEntropyAssignments(`API_KEY=${'Zr8pQ2vX9kLm4NwT'.repeat(70)}\n`)).toEqual([]);
    expect(findHighEntropyAssignments('API_KEY=Zr8pQ2vX9kLm4NwT7yB3cD6f\n')).toHaveLength(1);
  });

  it('finds the value and its offset', () => {
    const content = 'x = 1\n"client_secret": "Zr8pQ2vX9kLm4NwT7yB3cD6f"\n';
    expect(findHighEntropyAssignments(content)).toEqual([
      { index: content.indexOf('Zr8p'), value: 'Zr8pQ2vX9kLm4NwT7yB3cD6f' },
    ]);
  });

  it('stays linear on long lines', () => {
    const started = performance.now();
    findHighEntropyAssignments(`${'a'.repeat(200_000)}=${'b'.repeat(200_000)}`);
    findHighEntropyAssignments('secret_key: '.repeat(50_000));
    // A long run of operator characters once cost ~250 backtracking steps per character.
    findHighEntropyAssignments(`key${'='.repeat(400_000)}`);
    findHighEntropyAssignments(`token${':'.repeat(400_000)}`);
    // A complexity guard, not a speed goal: backtracking would take minutes, so the bound is loose.
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe(fingerprintSecret.name, () => {
  it('is keyed per deployment when given a key: the same secret matches itself, and only under that key', () => {
    const key = Buffer.alloc(32, 7);
    const other = Buffer.alloc(32, 8);
    expect(fingerprintSecret('hunter2', key)).toBe(fingerprintSecret('hunter2', key));
    expect(fingerprintSecret('hunter2', key)).not.toBe(fingerprintSecret('hunter2', other));
    expect(fingerprintSecret('hunter2', key)).not.toBe(fingerprintSecret('hunter2'));
    expect(fingerprintSecret('hunter2', key)).toMatch(/^[0-9a-f]{16}$/);
  });
});
