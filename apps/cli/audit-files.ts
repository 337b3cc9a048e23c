// Reading the files of offline audit verification: the export (JSON lines, streamed) and the signed
// checkpoints with the public key that signed them.
import { createPublicKey } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { type ChainLink } from '../../libs/domain/audit-chain';
import { type AuditCheckpoint } from '../../libs/domain/audit-checkpoint';
import { KeySetError, VerificationKeys } from '../../libs/domain/signing-key-set';
import { UsageError } from './args';

/** A line of the export that is not a chain link: the export cannot be trusted past it. */
export class ExportLineError extends Error {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`line ${line} of the export is not an audit chain link: ${reason}`);
    this.name = 'ExportLineError';
  }
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the shape only; whether the link holds is verifyAuditChain's job. */
export function parseChainLink(text: string, line: number): ChainLink {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ExportLineError(line, 'not JSON');
  }
  if (!isObject(value)) throw new ExportLineError(line, 'not a JSON object');
  if (!isString(value.seq) || !/^\d{1,19}$/.test(value.seq)) throw new ExportLineError(line, 'bad seq');
  for (const k of ['occurredAt', 'action', 'subjectType', 'subjectId', 'prevHash', 'hash'] as const) {
    if (!isString(value[k])) throw new ExportLineError(line, `${k} is missing or not a string`);
  }
  const actor = value.actor;
  if (!isObject(actor) || !isString(actor.kind) || !isString(actor.issuer) || !isString(actor.subject)) {
    throw new ExportLineError(line, 'actor is not {kind, issuer, subject}');
  }
  if (!isObject(value.details)) throw new ExportLineError(line, 'details is not an object');
  return value as unknown as ChainLink;
}

/** Links per page handed to the verifier: an async step per page, not per link. */
const EXPORT_PAGE = 1000;

/**
 * The export's links in pages, read line by line: a chain of any length verifies in constant
 * memory. A gzip file (as `airlock audit export --gzip` writes it) is decompressed on the way.
 * Opens the file first, so a missing file is a usage error rather than a broken chain.
 */
export async function openExport(path: string): Promise<AsyncIterable<ChainLink[]>> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const magic = Buffer.alloc(2);
  await handle.read(magic, 0, 2, 0);
  const gzipped = magic[0] === 0x1f && magic[1] === 0x8b;
  const file = handle;
  return (async function* links(): AsyncGenerator<ChainLink[]> {
    const raw: Readable = file.createReadStream({ start: 0, highWaterMark: 1 << 20 });
    const input = gzipped ? raw.pipe(createGunzip()) : raw;
    try {
      let n = 0;
      let page: ChainLink[] = [];
      for await (const text of createInterface({ input, crlfDelay: Infinity })) {
        n += 1;
        if (text.trim() === '') continue;
        page.push(parseChainLink(text, n));
        if (page.length === EXPORT_PAGE) {
          yield page;
          page = [];
        }
      }
      if (page.length > 0) yield page;
    } finally {
      input.destroy();
      await file.close().catch(() => undefined);
    }
  })();
}

/**
 * The first page of `pages` and the whole sequence again (the first page included): the offline
 * verifier looks at where an export starts before walking it.
 */
export async function peekFirst(
  pages: AsyncIterable<ChainLink[]>,
): Promise<{ first: ChainLink | undefined; pages: AsyncIterable<ChainLink[]> }> {
  const it = pages[Symbol.asyncIterator]();
  const head = await it.next();
  const firstPage = head.done ? [] : head.value;
  return {
    first: firstPage[0],
    pages: (async function* again(): AsyncGenerator<ChainLink[]> {
      if (firstPage.length > 0) yield firstPage;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    })(),
  };
}

function parseCheckpoint(value: unknown, where: string): AuditCheckpoint {
  if (
    !isObject(value) ||
    !['seq', 'hash', 'issuedAt', 'keyId', 'signature'].every((k) => isString(value[k]))
  ) {
    throw new UsageError(`${where}: not a checkpoint ({seq, hash, issuedAt, keyId, signature})`);
  }
  return value as unknown as AuditCheckpoint;
}

/**
 * Checkpoints as `airlock audit checkpoints --out` writes them and the server keeps them: one JSON
 * object per line. The whole GET /v1/audit/checkpoints response ({publicKey, items}) is accepted
 * too, but its publicKey is not used: the key must come from --public-key, held independently.
 */
export async function readCheckpoints(path: string): Promise<AuditCheckpoint[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    const whole: unknown = JSON.parse(text);
    if (isObject(whole) && Array.isArray(whole.items)) {
      return whole.items.map((c, i) => parseCheckpoint(c, `${path} item ${i}`));
    }
  } catch {
    // not a single JSON document: JSON lines
  }
  const checkpoints: AuditCheckpoint[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new UsageError(`${path} line ${i + 1}: not JSON`);
    }
    checkpoints.push(parseCheckpoint(value, `${path} line ${i + 1}`));
  });
  return checkpoints;
}

export async function readPublicKey(path: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    createPublicKey(pem);
  } catch {
    throw new UsageError(`${path} is not a PEM public key`);
  }
  return pem;
}

/**
 * Airlock's key set as `GET /v1/keys` returns it (`airlock keys --out keys.json`): every key that
 * signed, each with its period. A file that is not one is a usage error naming the problem.
 */
export async function readKeySet(path: string): Promise<VerificationKeys> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not JSON (expected the key set of GET /v1/keys)`);
  }
  try {
    return VerificationKeys.fromPublished(value, path);
  } catch (e) {
    if (e instanceof KeySetError) throw new UsageError(e.message);
    throw e;
  }
}

/** `--keys` or `--public-key` (exactly one), as the key set a verifier uses. */
export async function readVerificationKeys(
  keysFile: string | undefined,
  publicKeyFile: string | undefined,
): Promise<VerificationKeys | undefined> {
  if (keysFile !== undefined && publicKeyFile !== undefined) {
    throw new UsageError('give --keys or --public-key, not both');
  }
  if (keysFile !== undefined) return readKeySet(keysFile);
  if (publicKeyFile === undefined) return undefined;
  const pem = await readPublicKey(publicKeyFile);
  try {
    return VerificationKeys.single(pem, publicKeyFile);
  } catch (e) {
    if (e instanceof KeySetError) throw new UsageError(e.message);
    throw e;
  }
}
