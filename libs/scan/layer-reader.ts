// Reads one image layer blob as a stream, in memory: decompression (gzip, zstd or none), a tar
// parser (tar-stream), limits against tar and decompression bombs, path normalisation, and a
// callback for each regular text file small enough to scan. Nothing is written to disk, and the
// paths and link targets of the archive are never used to open anything.
import { createHash, type Hash } from 'node:crypto';
import { posix } from 'node:path';
import { PassThrough, type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { extract as tarExtract, type Header, type Extract } from 'tar-stream';
// By file: the domain index would load the policy schemas (ajv).
import { classifyFailure, type Failure } from '../domain/failure';

/** One entry's content stream, as tar-stream hands it out. */
type EntryStream = Extract extends AsyncIterable<infer S> ? S : never;

export interface LayerLimits {
  /** Decompressed tar bytes (headers and padding included) one read may produce. */
  maxUncompressedBytes: number;
  /** Tar entries one read may hold (every type, whiteouts and directories included). */
  maxEntries: number;
  /** The largest single entry; a larger one ends the read as a problem (a bomb, not a skip). */
  maxEntryBytes: number;
  /** Regular files larger than this are not scanned (skipped, not a problem). */
  maxScannedFileBytes: number;
  /**
   * Decompressed / compressed bytes, enforced once `ratioFloorBytes` have been decompressed.
   * Deflate tops out near 1032:1, so only runs of nearly constant data reach a high ratio.
   */
  maxCompressionRatio: number;
  ratioFloorBytes: number;
}

export const DEFAULT_LAYER_LIMITS: Readonly<LayerLimits> = {
  maxUncompressedBytes: 8 * 1024 ** 3,
  maxEntries: 1_000_000,
  maxEntryBytes: 4 * 1024 ** 3,
  maxScannedFileBytes: 2 * 1024 ** 2,
  maxCompressionRatio: 500,
  ratioFloorBytes: 64 * 1024 ** 2,
};

/** Everything here makes the check `error`: the layer could not be read completely and safely. */
export type LayerProblemKind =
  | 'limit'
  | 'malformed'
  | 'path-traversal'
  | 'link-escape'
  | 'unsupported-media-type'
  | 'digest-mismatch'
  | 'read-failed';

export interface LayerProblem {
  kind: LayerProblemKind;
  layer: string;
  /** The entry's path as the archive spells it (control characters escaped, at most 256 characters). */
  path?: string;
  message: string;
  /**
   * With `read-failed`: why the bytes stopped coming, classified. A registry's digest mismatch or
   * endless blob is permanent; a dropped connection or a transfer cut at the deadline is not.
   */
  failure?: Failure;
}

export interface LayerFile {
  /** Normalised: no leading `/` or `./`, no `.` or `..` segments. */
  path: string;
  content: Buffer;
}

export interface Whiteout {
  /** The path removed from lower layers (for an opaque whiteout: the directory emptied). */
  path: string;
  opaque: boolean;
}

export interface LayerReadResult {
  compressedBytes: number;
  uncompressedBytes: number;
  entries: number;
  scannedFiles: number;
  skipped: { tooLarge: number; binary: number };
  whiteouts: Whiteout[];
  problems: LayerProblem[];
}

export interface ReadLayerOptions {
  digest: string;
  mediaType: string;
  limits: LayerLimits;
  /** Checks the compressed bytes against `digest` (sha256 and sha512). Default true. */
  verifyDigest?: boolean;
  /** Called for each regular, non-binary file of at most `maxScannedFileBytes`, one at a time. */
  onFile: (file: LayerFile) => Promise<void> | void;
  /** Called with the path of each regular file skipped as binary (rules on names still apply). */
  onBinaryFile?: (path: string) => void;
}

export type LayerCompression = 'gzip' | 'zstd' | 'none';

/**
 * zlib's output buffers and the meters' buffering. 64 KiB was tried against the peak RSS (#18): on
 * two node_modules layers read at once it peaked at 134-162 MiB against 146-193, but in the image
 * bench the peak did not move (V8 lets the same bytes of zlib output pile up before collecting
 * them, whatever their size) and the scan ran slower beside this size in three runs of five (likely:
 * each output buffer is one more round trip to the thread pool, waiting on a busy main thread).
 */
const CHUNK_SIZE = 256 * 1024;
/** Bytes looked at for a NUL to call a file binary (git's heuristic). */
const BINARY_SNIFF_BYTES = 8000;
const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_WHITEOUT = '.wh..wh..opq';

/**
 * The compression of a layer media type: OCI and Docker layers, their non-distributable and foreign
 * variants. Undefined for anything that is not a tar layer.
 */
export function layerCompression(mediaType: string): LayerCompression | undefined {
  const mt = mediaType.trim().toLowerCase();
  if (
    !mt.startsWith('application/vnd.oci.image.layer.') &&
    !mt.startsWith('application/vnd.docker.image.rootfs.')
  )
    return undefined;
  if (mt.endsWith('.tar+gzip') || mt.endsWith('.tar.gzip')) return 'gzip';
  if (mt.endsWith('.tar+zstd')) return 'zstd';
  if (mt.endsWith('.tar')) return 'none';
  return undefined;
}

export type NormalisedPath = { path: string } | { problem: string };

/**
 * An archive path made relative to the image root: leading `/` and `./` removed, `.` and empty
 * segments dropped. Any `..` segment is refused: a layer has no reason to carry one, and an
 * extractor that honoured it would write outside the root.
 */
export function normaliseEntryPath(raw: string): NormalisedPath {
  if (raw.includes('\0')) return { problem: 'the path contains a NUL byte' };
  const segments: string[] = [];
  for (const segment of raw.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return { problem: 'the path contains a ".." segment (path traversal)' };
    segments.push(segment);
  }
  return { path: segments.join('/') };
}

/**
 * Whether a symlink at `linkPath` pointing at `target` resolves outside the image root. Absolute
 * targets are read the way a container reads them, from the image root; a relative target that
 * climbs above the root with `..` escapes.
 */
export function symlinkEscapes(linkPath: string, target: string): boolean {
  const base = target.startsWith('/') ? [] : posix.dirname(`/${linkPath}`).split('/').filter(Boolean);
  const resolved = [...base];
  for (const segment of target.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (resolved.length === 0) return true;
      resolved.pop();
    } else resolved.push(segment);
  }
  return false;
}

/** An archive-controlled string made safe to put in a message or a log line. */
export function displayPath(raw: string): string {
  const clipped = raw.length > 256 ? `${raw.slice(0, 256)}…` : raw;
  return clipped.replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

class LayerReadAbort extends Error {
  constructor(readonly problem: Omit<LayerProblem, 'layer'>) {
    super(problem.message);
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

function digestHash(digest: string): { hash: Hash; expected: string } | undefined {
  const m = /^(sha256|sha512):([a-f0-9]+)$/.exec(digest);
  if (!m) return undefined;
  const [, algorithm, hex] = m;
  if (hex.length !== (algorithm === 'sha256' ? 64 : 128)) return undefined;
  return { hash: createHash(algorithm), expected: hex };
}

function decompressor(compression: LayerCompression): Transform {
  switch (compression) {
    case 'gzip':
      return createGunzip({ chunkSize: CHUNK_SIZE });
    case 'zstd':
      return createZstdDecompress({ chunkSize: CHUNK_SIZE });
    case 'none':
      return new PassThrough({ highWaterMark: CHUNK_SIZE });
  }
}

/** Reads the whole layer; never throws for a bad archive (problems come back in the result). */
export async function readLayer(source: Readable, options: ReadLayerOptions): Promise<LayerReadResult> {
  const { limits, digest } = options;
  const result: LayerReadResult = {
    compressedBytes: 0,
    uncompressedBytes: 0,
    entries: 0,
    scannedFiles: 0,
    skipped: { tooLarge: 0, binary: 0 },
    whiteouts: [],
    problems: [],
  };
  const problem = (p: Omit<LayerProblem, 'layer'>) => result.problems.push({ layer: digest, ...p });

  const compression = layerCompression(options.mediaType);
  if (!compression) {
    source.destroy();
    problem({
      kind: 'unsupported-media-type',
      message: `layer media type ${JSON.stringify(options.mediaType)} is not a tar layer this scan can read`,
    });
    return result;
  }

  const hashing = options.verifyDigest === false ? undefined : digestHash(digest);
  const compressedMeter = new Transform({
    highWaterMark: CHUNK_SIZE,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      result.compressedBytes += chunk.length;
      hashing?.hash.update(chunk);
      cb(null, chunk);
    },
  });
  const uncompressedMeter = new Transform({
    highWaterMark: CHUNK_SIZE,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      result.uncompressedBytes += chunk.length;
      const n = result.uncompressedBytes;
      if (n > limits.maxUncompressedBytes) {
        cb(
          new LayerReadAbort({
            kind: 'limit',
            message: `the layer decompresses to more than ${formatBytes(limits.maxUncompressedBytes)} (limit maxUncompressedBytes)`,
          }),
        );
        return;
      }
      if (
        n > limits.ratioFloorBytes &&
        n > limits.maxCompressionRatio * Math.max(result.compressedBytes, 1)
      ) {
        cb(
          new LayerReadAbort({
            kind: 'limit',
            message: `the layer decompresses more than ${limits.maxCompressionRatio}:1 (${formatBytes(result.compressedBytes)} became ${formatBytes(n)}): a decompression bomb`,
          }),
        );
        return;
      }
      cb(null, chunk);
    },
  });
  const extract = tarExtract();
  const inflate = decompressor(compression);
  // Which stream failed first: the blob's source (a transfer problem) or the archive (malformed).
  let sourceFailed: Error | undefined;
  let downstreamFailed = false;
  source.once('error', (err: Error) => {
    if (!downstreamFailed) sourceFailed ??= err;
  });
  for (const s of [inflate, uncompressedMeter]) s.once('error', () => (downstreamFailed ||= !sourceFailed));
  extract.once('error', () => (downstreamFailed ||= !sourceFailed));
  const piped = pipeline(source, compressedMeter, inflate, uncompressedMeter, extract);
  // Settled below; this keeps an early rejection from being reported as unhandled meanwhile.
  piped.catch(() => undefined);

  let abort: LayerReadAbort | undefined;
  try {
    for await (const entry of extract) {
      const header = entry.header;
      result.entries += 1;
      if (result.entries > limits.maxEntries) {
        abort = new LayerReadAbort({
          kind: 'limit',
          message: `the layer has more than ${limits.maxEntries} entries (limit maxEntries)`,
        });
        entry.resume();
        break;
      }
      const size = header.size ?? 0;
      if (size > limits.maxEntryBytes) {
        abort = new LayerReadAbort({
          kind: 'limit',
          path: displayPath(header.name),
          message: `entry ${JSON.stringify(displayPath(header.name))} is ${formatBytes(size)}, more than ${formatBytes(limits.maxEntryBytes)} (limit maxEntryBytes)`,
        });
        entry.resume();
        break;
      }
      await handleEntry(header, entry, size);
    }
  } catch (err) {
    abort ??= err instanceof LayerReadAbort ? err : undefined;
    if (!abort && sourceFailed)
      abort = new LayerReadAbort({
        kind: 'read-failed',
        message: `the layer could not be fetched to the end: ${sourceFailed.message}`,
        failure: classifyFailure(sourceFailed),
      });
    if (!abort && isCallbackError(err) && err.cause instanceof CallbackLimitExceeded)
      abort = new LayerReadAbort({ kind: 'limit', message: err.cause.message });
    if (!abort) {
      const reason = err instanceof Error ? err.message : String(err);
      const what = `${compression === 'none' ? '' : `${compression}-compressed `}tar archive`;
      abort = new LayerReadAbort({
        kind: isCallbackError(err) ? 'read-failed' : 'malformed',
        message: isCallbackError(err)
          ? `scanning the layer failed: ${reason}`
          : isTruncation(err)
            ? // Its digest matched: the image was pushed truncated, not damaged on the way.
              `the layer is truncated: its ${what} ends before the archive does (${reason})`
            : `the layer is not a valid ${what}: ${reason}`,
      });
    }
  }
  if (abort) {
    source.destroy();
    extract.destroy();
  }
  try {
    await piped;
  } catch (err) {
    if (!abort && sourceFailed)
      abort = new LayerReadAbort({
        kind: 'read-failed',
        message: `the layer could not be fetched to the end: ${sourceFailed.message}`,
        failure: classifyFailure(sourceFailed),
      });
    if (!abort && isCallbackError(err) && err.cause instanceof CallbackLimitExceeded)
      abort = new LayerReadAbort({ kind: 'limit', message: err.cause.message });
    if (!abort) {
      const reason = err instanceof Error ? err.message : String(err);
      abort =
        err instanceof LayerReadAbort
          ? err
          : new LayerReadAbort({
              kind: 'malformed',
              message: `the layer could not be read to the end: ${reason}`,
            });
    }
  }
  if (abort) {
    problem(abort.problem);
    return result;
  }
  if (hashing) {
    const actual = hashing.hash.digest('hex');
    if (actual !== hashing.expected)
      problem({
        kind: 'digest-mismatch',
        message: `the layer's bytes do not match its digest (read ${digest.split(':')[0]}:${actual})`,
      });
  }
  return result;

  async function handleEntry(header: Header, entry: EntryStream, size: number): Promise<void> {
    const normalised = normaliseEntryPath(header.name);
    if ('problem' in normalised) {
      entry.resume();
      problem({
        kind: 'path-traversal',
        path: displayPath(header.name),
        message: `entry ${JSON.stringify(displayPath(header.name))}: ${normalised.problem}`,
      });
      return;
    }
    const path = normalised.path;
    const base = posix.basename(path);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      entry.resume();
      const dir = posix.dirname(path);
      if (base === OPAQUE_WHITEOUT) result.whiteouts.push({ path: dir === '.' ? '' : dir, opaque: true });
      else {
        const removed = base.slice(WHITEOUT_PREFIX.length);
        result.whiteouts.push({ path: dir === '.' ? removed : `${dir}/${removed}`, opaque: false });
      }
      return;
    }
    // tar-stream reports types it does not know as null.
    const type: string | null | undefined = header.type;
    switch (type) {
      case 'symlink': {
        entry.resume();
        const target = header.linkname ?? '';
        if (symlinkEscapes(path, target))
          problem({
            kind: 'link-escape',
            path: displayPath(header.name),
            message: `symlink ${JSON.stringify(displayPath(path))} points outside the image root (${JSON.stringify(displayPath(target))})`,
          });
        return;
      }
      case 'link': {
        entry.resume();
        const target = normaliseEntryPath(header.linkname ?? '');
        if ('problem' in target)
          problem({
            kind: 'link-escape',
            path: displayPath(header.name),
            message: `hard link ${JSON.stringify(displayPath(path))} points outside the image root (${JSON.stringify(displayPath(header.linkname ?? ''))})`,
          });
        return;
      }
      case 'file':
      case 'contiguous-file':
      case null:
      case undefined:
        break;
      default:
        // Directories, devices, FIFOs: nothing to scan.
        entry.resume();
        return;
    }
    if (size > limits.maxScannedFileBytes) {
      result.skipped.tooLarge += 1;
      entry.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    let binary = false;
    for await (const chunk of entry as AsyncIterable<Buffer>) {
      if (binary) continue;
      if (length < BINARY_SNIFF_BYTES && chunk.subarray(0, BINARY_SNIFF_BYTES - length).includes(0)) {
        binary = true;
        chunks.length = 0;
        continue;
      }
      chunks.push(chunk);
      length += chunk.length;
    }
    if (binary) {
      result.skipped.binary += 1;
      options.onBinaryFile?.(path);
      return;
    }
    if (length === 0) return;
    result.scannedFiles += 1;
    try {
      await options.onFile({
        path,
        content: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length),
      });
    } catch (err) {
      throw new CallbackError(err);
    }
  }
}

/**
 * Thrown by an `onFile` callback to end the read on a limit of its own (a time budget): the layer
 * then ends with a `limit` problem, like the reader's own limits.
 */
export class CallbackLimitExceeded extends Error {}

class CallbackError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

function isCallbackError(err: unknown): err is CallbackError {
  return err instanceof CallbackError;
}

/** zlib's and tar-stream's words for input that stops early (not for input that is wrong). */
function isTruncation(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return (
    e?.code === 'Z_BUF_ERROR' ||
    (typeof e?.message === 'string' && /unexpected end of (file|data)/i.test(e.message))
  );
}
