import { Injectable, type OnModuleInit } from '@nestjs/common';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { AirlockConfig } from '../../config';
import { DomainError, ErrorCode, SECRET_NAME } from '../../domain';
/** Client secrets are short; anything larger is not one (and is not read into memory). */
export const SECRET_MAX_BYTES = 64 * 1024;

const unavailable = (name: string, message: string): DomainError =>
  new DomainError(ErrorCode.SecretNotAvailable, message, { secret: name });

/** Airlock's own key material, which no secret may be: by file identity and by content. */
interface OwnKeys {
  /** Real paths of the signing key, the checkpoint file, the previous-keys file and its keys. */
  paths: Set<string>;
  /** `dev:ino` of those that exist (a hard link has another path but the same inode). */
  inodes: Set<string>;
  /** The signing key's base64 body without white space (a copy holds it, whatever wraps it). */
  pemBody: string | undefined;
  /** The signing key's public key (DER SPKI), to recognise the key re-encoded. */
  spki: Buffer | undefined;
}

const inode = (s: Stats): string => `${s.dev}:${s.ino}`;

/**
 * Named secrets the operator provides, for credential profiles: a file named like the secret in
 * AIRLOCK_SECRETS_DIR, or else the variable AIRLOCK_SECRET_ENV_PREFIX + NAME (upper case, `-` → `_`)
 * captured by loadConfig. Why names and not paths: a path chosen through the API let an admin make
 * Airlock read any file it can (its own signing key included) and send it as a client secret.
 *
 * A file is read only when its real path stays inside the folder (links out are refused), it is a
 * regular file of at most SECRET_MAX_BYTES, and it is none of Airlock's own key files or a copy of
 * the signing key. Secrets are read when needed and kept nowhere; messages never hold them.
 */
@Injectable()
export class SecretStore implements OnModuleInit {
  private ownKeys: Promise<OwnKeys> | undefined;

  constructor(private readonly config: AirlockConfig) {}

  /** A secrets folder holding Airlock's signing key (or a link to it, or a copy) stops the process. */
  async onModuleInit(): Promise<void> {
    await this.checkFolder();
  }

  /** The environment variable that may hold the secret `name`. */
  envName(name: string): string {
    return `${this.config.AIRLOCK_SECRET_ENV_PREFIX}${name.toUpperCase().replace(/-/g, '_')}`;
  }

  /** Throws secret_not_available unless `name` can be read (and is not Airlock's own key). */
  async check(name: string): Promise<void> {
    await this.read(name);
  }

  /** The secret's value (surrounding white space trimmed), or a secret_not_available DomainError. */
  async read(name: string): Promise<string> {
    if (!SECRET_NAME.test(name)) {
      throw unavailable(name, `secret names are lower-case letters, digits and dashes (at most 63)`);
    }
    const fromFile = await this.readFile(name);
    const value = fromFile ?? this.config.namedSecretEnv[this.envName(name)];
    if (value === undefined) {
      throw unavailable(
        name,
        `no secret named ${name}: the operator provides it as the file ${name} in AIRLOCK_SECRETS_DIR` +
          ` or as the environment variable ${this.envName(name)}`,
      );
    }
    const trimmed = value.trim();
    if (trimmed === '') throw unavailable(name, `the secret ${name} is empty`);
    if (this.isOwnKey(trimmed, await this.keys())) {
      throw unavailable(
        name,
        `the secret ${name} holds Airlock's own signing key; it is never used as a secret`,
      );
    }
    return trimmed;
  }

  /** The file's content, undefined when the folder has no entry of that name. */
  private async readFile(name: string): Promise<string | undefined> {
    const dir = this.config.AIRLOCK_SECRETS_DIR;
    if (dir === undefined) return undefined;
    const root = await realpath(dir).catch(() => undefined);
    if (root === undefined) throw unavailable(name, `the secrets folder cannot be read`);
    const entry = join(root, name);
    if (!(await lstat(entry).catch(() => undefined))) return undefined;
    const real = await realpath(entry).catch(() => undefined);
    if (real === undefined || !real.startsWith(root + sep)) {
      throw unavailable(name, `the secret ${name} is a link out of the secrets folder; it is not followed`);
    }
    const keys = await this.keys();
    if (keys.paths.has(real)) {
      throw unavailable(
        name,
        `the secret ${name} is one of Airlock's own key files; it is never used as a secret`,
      );
    }
    // O_NOFOLLOW: the real path must not have become a link since; O_NONBLOCK: a FIFO cannot hang us.
    const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
      () => undefined,
    );
    if (handle === undefined) throw unavailable(name, `the secret file ${name} cannot be opened`);
    try {
      const s = await handle.stat();
      if (!s.isFile()) throw unavailable(name, `the secret ${name} is not a regular file`);
      if (keys.inodes.has(inode(s))) {
        throw unavailable(
          name,
          `the secret ${name} is one of Airlock's own key files; it is never used as a secret`,
        );
      }
      if (s.size > SECRET_MAX_BYTES) {
        throw unavailable(name, `the secret file ${name} is larger than ${SECRET_MAX_BYTES} bytes`);
      }
      const buffer = Buffer.alloc(SECRET_MAX_BYTES + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      if (bytesRead > SECRET_MAX_BYTES) {
        throw unavailable(name, `the secret file ${name} is larger than ${SECRET_MAX_BYTES} bytes`);
      }
      return buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  }

  private isOwnKey(value: string, keys: OwnKeys): boolean {
    const flat = value.replace(/\s+/g, '');
    if (keys.pemBody !== undefined && keys.pemBody.length > 0 && flat.includes(keys.pemBody)) return true;
    if (keys.spki !== undefined && value.includes('PRIVATE KEY')) {
      try {
        const spki = createPublicKey(createPrivateKey(value)).export({ type: 'spki', format: 'der' });
        if (spki.equals(keys.spki)) return true;
      } catch {
        // not a key we can read: not ours
      }
    }
    return false;
  }

  private keys(): Promise<OwnKeys> {
    this.ownKeys ??= this.loadKeys();
    return this.ownKeys;
  }

  private async loadKeys(): Promise<OwnKeys> {
    const keys: OwnKeys = { paths: new Set(), inodes: new Set(), pemBody: undefined, spki: undefined };
    const files = [this.config.AIRLOCK_SIGNING_KEY_FILE, this.config.AUDIT_CHECKPOINT_FILE];
    const previous = this.config.AIRLOCK_PREVIOUS_KEYS_FILE;
    if (previous !== undefined) files.push(previous, ...(await filesNamedIn(previous)));
    for (const file of files) {
      const real = await realOrResolved(file);
      keys.paths.add(real);
      const s = await stat(real).catch(() => undefined);
      if (s) keys.inodes.add(inode(s));
    }
    const pem = await readFile(this.config.AIRLOCK_SIGNING_KEY_FILE, 'utf8').catch(() => undefined);
    if (pem !== undefined) {
      keys.pemBody = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
      try {
        keys.spki = createPublicKey(createPrivateKey(pem)).export({ type: 'spki', format: 'der' });
      } catch {
        // an unreadable key stops the process elsewhere (the signer loads it)
      }
    }
    return keys;
  }

  /** Refuses a secrets folder that holds the signing key, a link to one of Airlock's key files, or a copy. */
  private async checkFolder(): Promise<void> {
    const keys = await this.keys();
    for (const [variable, value] of Object.entries(this.config.namedSecretEnv)) {
      if (this.isOwnKey(value, keys)) {
        throw new Error(`${variable} holds Airlock's signing key: it must never be a named secret`);
      }
    }
    const dir = this.config.AIRLOCK_SECRETS_DIR;
    if (dir === undefined) return;
    const root = await realpath(dir).catch(() => undefined);
    if (root === undefined || !(await stat(root)).isDirectory()) {
      throw new Error(`AIRLOCK_SECRETS_DIR ${dir} is not a readable folder`);
    }
    const signingKey = await realOrResolved(this.config.AIRLOCK_SIGNING_KEY_FILE);
    if (signingKey.startsWith(root + sep)) {
      throw new Error(
        `AIRLOCK_SECRETS_DIR ${dir} contains Airlock's signing key (AIRLOCK_SIGNING_KEY_FILE): keep the key outside the secrets folder`,
      );
    }
    for (const name of await readdir(root)) {
      const real = await realpath(join(root, name)).catch(() => undefined);
      if (real === undefined) continue;
      const s = await stat(real).catch(() => undefined);
      const own = keys.paths.has(real) || (s !== undefined && keys.inodes.has(inode(s)));
      let copy = false;
      if (!own && s?.isFile() && s.size <= SECRET_MAX_BYTES && real.startsWith(root + sep)) {
        const content = await readFile(real, 'utf8').catch(() => '');
        copy = this.isOwnKey(content, keys);
      }
      if (own || copy) {
        throw new Error(
          `AIRLOCK_SECRETS_DIR ${dir} holds ${name}, which is ${own ? "one of Airlock's own key files" : "a copy of Airlock's signing key"}: remove it`,
        );
      }
    }
  }
}

/** The real path of a file, or (when it does not exist yet) its folder's real path and its name. */
async function realOrResolved(file: string): Promise<string> {
  const real = await realpath(file).catch(() => undefined);
  if (real !== undefined) return real;
  const folder = await realpath(dirname(resolve(file))).catch(() => dirname(resolve(file)));
  return join(folder, basename(file));
}

/** Files the previous-keys list names (`publicKeyFile` and any other `…File` entry). */
async function filesNamedIn(listFile: string): Promise<string[]> {
  try {
    const list: unknown = JSON.parse(await readFile(listFile, 'utf8'));
    if (!Array.isArray(list)) return [];
    return list.flatMap((entry: unknown) =>
      entry !== null && typeof entry === 'object'
        ? Object.entries(entry)
            .filter((e): e is [string, string] => e[0].endsWith('File') && typeof e[1] === 'string')
            .map(([, path]) => (isAbsolute(path) ? path : resolve(dirname(listFile), path)))
        : [],
    );
  } catch {
    return [];
  }
}
