import { generateKeyPairSync } from 'node:crypto';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadConfig } from '../../config';
import { DomainError, ErrorCode } from '../../domain';
import { SecretStore } from './secret-store';

describe(SecretStore.name, () => {
  let root: string;
  let secrets: string;
  let keyFile: string;
  let keyPem: string;

  const store = (env: Record<string, string> = {}): SecretStore =>
    new SecretStore(
      loadConfig({
        DATABASE_URL: 'postgres://u@localhost/airlock',
        REDIS_URL: 'redis://localhost:6379',
        AIRLOCK_SIGNING_KEY_FILE: keyFile,
        AUDIT_CHECKPOINT_FILE: join(root, 'keys', 'checkpoints.jsonl'),
        AIRLOCK_SECRETS_DIR: secrets,
        ...env,
      }),
    );

  const refusal = async (work: Promise<unknown>): Promise<DomainError> => {
    const e = await work.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).code).toBe(ErrorCode.SecretNotAvailable);
    return e as DomainError;
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'airlock-secret-store-'));
    secrets = join(root, 'secrets');
    mkdirSync(secrets);
    mkdirSync(join(root, 'keys'));
    keyFile = join(root, 'keys', 'airlock-signing-key.pem');
    keyPem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    writeFileSync(keyFile, keyPem);
    writeFileSync(join(root, 'keys', 'checkpoints.jsonl'), '');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('reads a named file from the folder, trimmed', async () => {
    writeFileSync(join(secrets, 'promoter'), 's3cret\n');
    await expect(store().read('promoter')).resolves.toBe('s3cret');
  });

  it('falls back to the prefixed environment variable (upper case, dashes as underscores)', async () => {
    const s = store({ AIRLOCK_SECRET_AIRLOCK_PROMOTER: 'from-env' });
    expect(s.envName('airlock-promoter')).toBe('AIRLOCK_SECRET_AIRLOCK_PROMOTER');
    await expect(s.read('airlock-promoter')).resolves.toBe('from-env');
  });

  it('names where the operator can provide a missing secret', async () => {
    const e = await refusal(store().read('nowhere'));
    expect(e.message).toContain('AIRLOCK_SECRETS_DIR');
    expect(e.message).toContain('AIRLOCK_SECRET_NOWHERE');
    expect(e.details).toEqual({ secret: 'nowhere' });
  });

  it.each(['../keys/airlock-signing-key.pem', '/etc/passwd', 'UPPER', 'a.b', '', 'a'.repeat(64)])(
    'refuses %p as a name',
    async (name) => {
      await refusal(store().read(name));
    },
  );

  it('does not follow a link out of the folder', async () => {
    writeFileSync(join(root, 'outside'), 'not for you');
    symlinkSync(join(root, 'outside'), join(secrets, 'escape'));
    expect((await refusal(store().read('escape'))).message).toContain('link out of the secrets folder');
  });

  it('follows a link that stays inside the folder', async () => {
    writeFileSync(join(secrets, 'real'), 'inside');
    symlinkSync(join(secrets, 'real'), join(secrets, 'alias'));
    await expect(store().read('alias')).resolves.toBe('inside');
  });

  it('refuses the signing key through a link, and the checkpoint file by its path', async () => {
    symlinkSync(keyFile, join(secrets, 'promoter'));
    const e = await refusal(store().read('promoter'));
    expect(e.message).toContain('link out of the secrets folder');
    expect(e.message).not.toContain('BEGIN');
    writeFileSync(join(secrets, 'checkpoints'), '');
    const s = store({ AUDIT_CHECKPOINT_FILE: join(secrets, 'checkpoints') });
    expect((await refusal(s.read('checkpoints'))).message).toContain("Airlock's own key files");
  });

  it('refuses a hard link to the signing key', async () => {
    linkSync(keyFile, join(secrets, 'hard'));
    expect((await refusal(store().read('hard'))).message).toContain("Airlock's own");
  });

  it('refuses a copy of the signing key, re-encoded or wrapped', async () => {
    writeFileSync(join(secrets, 'copy'), keyPem);
    const sec1 = execFileSync('openssl', ['ec', '-in', keyFile], { stdio: ['ignore', 'pipe', 'ignore'] });
    writeFileSync(join(secrets, 'sec1'), sec1);
    writeFileSync(join(secrets, 'wrapped'), `prefix ${keyPem.replace(/\n/g, ' ')} suffix`);
    for (const name of ['copy', 'sec1', 'wrapped']) {
      expect((await refusal(store().read(name))).message).toContain('signing key');
    }
    await refusal(store({ AIRLOCK_SECRETS_DIR: join(root, 'none'), AIRLOCK_SECRET_KEY: keyPem }).read('key'));
  });

  it('refuses the previous-keys list and the files it names', async () => {
    writeFileSync(join(secrets, 'old'), 'old public key');
    const list = join(secrets, 'previous');
    writeFileSync(list, JSON.stringify([{ publicKeyFile: 'old', notBefore: 'x', notAfter: 'y' }]));
    const s = store({ AIRLOCK_PREVIOUS_KEYS_FILE: list });
    expect((await refusal(s.read('old'))).message).toContain("Airlock's own key files");
    expect((await refusal(s.read('previous'))).message).toContain("Airlock's own key files");
  });

  it('refuses what is not a small regular file', async () => {
    mkdirSync(join(secrets, 'folder'));
    writeFileSync(join(secrets, 'big'), 'x'.repeat(64 * 1024 + 1));
    writeFileSync(join(secrets, 'empty'), '\n');
    execFileSync('mkfifo', [join(secrets, 'fifo')]);
    expect((await refusal(store().read('folder'))).message).toContain('not a regular file');
    expect((await refusal(store().read('big'))).message).toContain('larger than');
    expect((await refusal(store().read('empty'))).message).toContain('empty');
    expect((await refusal(store().read('fifo'))).message).toContain('not a regular file');
  });

  describe('at start', () => {
    it('accepts a folder of ordinary secrets', async () => {
      writeFileSync(join(secrets, 'promoter'), 'x');
      await expect(store().onModuleInit()).resolves.toBeUndefined();
    });

    it('refuses a folder that holds the signing key', async () => {
      await expect(store({ AIRLOCK_SECRETS_DIR: join(root, 'keys') }).onModuleInit()).rejects.toThrow(
        /contains Airlock's signing key/,
      );
      await expect(store({ AIRLOCK_SECRETS_DIR: root }).onModuleInit()).rejects.toThrow(/signing key/);
    });

    it('refuses a link to the signing key or a copy of it in the folder', async () => {
      symlinkSync(keyFile, join(secrets, 'promoter'));
      await expect(store().onModuleInit()).rejects.toThrow(/holds promoter/);
      rmSync(join(secrets, 'promoter'));
      writeFileSync(join(secrets, 'copy'), keyPem);
      await expect(store().onModuleInit()).rejects.toThrow(/holds copy, which is a copy/);
    });

    it('refuses the signing key in a named-secret variable, and a missing folder', async () => {
      await expect(store({ AIRLOCK_SECRET_X: keyPem }).onModuleInit()).rejects.toThrow(/AIRLOCK_SECRET_X/);
      await expect(store({ AIRLOCK_SECRETS_DIR: join(root, 'missing') }).onModuleInit()).rejects.toThrow(
        /not a readable folder/,
      );
    });
  });
});
