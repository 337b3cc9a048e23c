// The messages between the worker and its registry processes (registry-process.ts sends,
// registry-child.ts runs copies and secret scans), JSON over Node's IPC channel. Nothing here holds
// a function: credentials that are a token supplier stay in the worker, and the process asks for
// each token it needs.
// By file: the domain index would load the policy schemas (ajv) into the process.
import type { LayerScan, SecretScanLimits } from '../scan';
import { Failure } from '../domain/failure';
import { RegistryError, type RegistryErrorKind } from './errors';
import { type CopyOptions } from './copier';
import { type ImageCopyResult } from './image-copy';
import { type RegistryConfig } from './registry-config';

/** Which end of a copy a registry is: each has its own credentials. */
export type CopySide = 'source' | 'target';

/** Credentials as they cross: `askParent` stands for a token supplier the worker keeps. */
export type WireCredentials =
  { username: string; password: string } | { bearerToken: string } | { askParent: true };

export type WireRegistryConfig = Omit<RegistryConfig, 'credentials'> & { credentials?: WireCredentials };

export interface WireEndpoint {
  registry: WireRegistryConfig;
  repository: string;
}

export type WireCopyOptions = Pick<CopyOptions, 'parallel' | 'maxBlobBytes'> & { mountFrom?: string[] };

/** An error as it crosses: enough to rebuild a RegistryError or Failure with the same meaning. */
export type WireError =
  | {
      name: 'RegistryError';
      kind: RegistryErrorKind;
      message: string;
      permanent: boolean;
      registry?: string;
      repository?: string;
      status?: number;
      registryCode?: string;
    }
  | { name: 'Failure'; message: string; permanent: boolean }
  | { name: 'Cancelled'; message: string }
  /**
   * A token supplier's own error: its message may quote what it exchanged (tokens, assertions),
   * so only its class and code cross, as token-auth would report them.
   */
  | { name: 'Opaque'; errorName: string; code?: string };

/** The worker asks for a copy. */
export interface CopyCommand {
  type: 'copy';
  id: number;
  source: WireEndpoint;
  target: WireEndpoint;
  digest: string;
  options: WireCopyOptions;
}

/** A layer of a scan: what the process needs to fetch it from the source. */
export interface WireScanLayer {
  digest: string;
  mediaType: string;
  size: number;
}

/**
 * The worker asks for a secret scan of `layers` (those not in its cache) from `source`. The
 * process reports each layer's scan as it ends (`layer`), then `scanned`; the worker stores and
 * combines them (deletedIn, maxFindings), as an in-process scan would.
 */
export interface ScanCommand {
  type: 'scan';
  id: number;
  source: WireEndpoint;
  layers: WireScanLayer[];
  limits: Partial<SecretScanLimits>;
  /** The deployment's fingerprint key, base64. */
  fingerprintKey?: string;
  /**
   * A policy's rule sets, as the worker read and checked them at boot (gitleaks TOML): the process
   * compiles these texts, not the files as they may be now.
   */
  rules?: Array<{ set: string; toml: string }>;
  concurrency: number;
}

/** The worker's answer to a TokenQuestion: a token, or why there is none. */
export interface TokenAnswer {
  type: 'token';
  id: number;
  question: number;
  token?: string;
  error?: WireError;
}

/** The worker stops a copy: the copy process aborts it and reports it `failed` (Cancelled). */
export interface CancelCommand {
  type: 'cancel';
  id: number;
}

export type ParentMessage = CopyCommand | ScanCommand | TokenAnswer | CancelCommand;

/** What a registry process used for one copy or scan, for logs and the benchmark. */
export interface ProcessUsage {
  pid: number;
  /** The process's peak RSS since it started (VmHWM), bytes. */
  peakRss: number;
  /** CPU time (user + system) of the process during this copy, ms. */
  cpuMs: number;
  /** Highest array-buffer and JS-heap use sampled during this copy, bytes. */
  arrayBuffersPeak: number;
  heapUsedPeak: number;
}

/** The copy process is listening. */
export interface ReadyReport {
  type: 'ready';
}

/** A registry challenged the copy process: it needs a token for `scope` from that side's supplier. */
export interface TokenQuestion {
  type: 'token';
  id: number;
  question: number;
  side: CopySide;
  scope: string;
  challenge: { realm: string; service?: string };
}

export type WireCopyResult = Omit<ImageCopyResult, 'manifest'> & {
  manifest: Omit<ImageCopyResult['manifest'], 'bytes'> & { base64: string };
};

export interface CopyDone {
  type: 'done';
  id: number;
  result: WireCopyResult;
  usage: ProcessUsage;
}

export interface CopyFailed {
  type: 'failed';
  id: number;
  error: WireError;
  usage: ProcessUsage;
}

/** One layer of a scan read: its result, to cache and combine. */
export interface LayerScanned {
  type: 'layer';
  id: number;
  digest: string;
  scan: LayerScan;
}

/** Every layer of a scan has been reported. */
export interface ScanDone {
  type: 'scanned';
  id: number;
  usage: ProcessUsage;
}

export type ChildMessage = ReadyReport | TokenQuestion | CopyDone | CopyFailed | LayerScanned | ScanDone;

/** A copy stopped by the worker (its shutdown, or the caller's signal). Transient: run it again. */
export class CopyCancelledError extends Failure {
  constructor(message: string) {
    super(message, false);
    this.name = 'CopyCancelledError';
  }
}

export function toWireError(error: unknown): WireError {
  if (error instanceof RegistryError) {
    return {
      name: 'RegistryError',
      kind: error.kind,
      message: error.message,
      permanent: error.permanent,
      registry: error.registry,
      repository: error.repository,
      status: error.status,
      registryCode: error.registryCode,
    };
  }
  if (error instanceof CopyCancelledError) return { name: 'Cancelled', message: error.message };
  if (error instanceof Failure)
    return { name: 'Failure', message: error.message, permanent: error.permanent };
  // Anything else is a bug or a dropped connection: transient, as classifyFailure treats it.
  return {
    name: 'Failure',
    message: error instanceof Error ? error.message : String(error),
    permanent: false,
  };
}

/** A token supplier's failure, without its message (see WireError's Opaque). */
export function toWireSupplierError(error: unknown): WireError {
  if (error instanceof RegistryError) return toWireError(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  return {
    name: 'Opaque',
    errorName: error instanceof Error ? error.name : typeof error,
    code: typeof code === 'string' ? code.slice(0, 64) : undefined,
  };
}

export function fromWireError(wire: WireError): Error {
  switch (wire.name) {
    case 'RegistryError':
      return new RegistryError(wire.kind, wire.message, {
        registry: wire.registry,
        repository: wire.repository,
        status: wire.status,
        registryCode: wire.registryCode,
        permanent: wire.permanent,
      });
    case 'Failure':
      return new Failure(wire.message, wire.permanent);
    case 'Cancelled':
      return new CopyCancelledError(wire.message);
    case 'Opaque': {
      const error = new Error('');
      error.name = wire.errorName;
      if (wire.code !== undefined) Object.assign(error, { code: wire.code });
      return error;
    }
  }
}

export function toWireResult(result: ImageCopyResult): WireCopyResult {
  const { bytes, ...manifest } = result.manifest;
  return { ...result, manifest: { ...manifest, base64: bytes.toString('base64') } };
}

export function fromWireResult(wire: WireCopyResult): ImageCopyResult {
  const { base64, ...manifest } = wire.manifest;
  return { ...wire, manifest: { ...manifest, bytes: Buffer.from(base64, 'base64') } };
}

/** A registry's configuration as it crosses; a token supplier becomes a question to the worker. */
export function toWireRegistry(config: RegistryConfig): WireRegistryConfig {
  const { credentials, ...rest } = config;
  if (credentials === undefined) return rest;
  return { ...rest, credentials: 'tokenSupplier' in credentials ? { askParent: true } : credentials };
}

const CHILD_MESSAGE_TYPES: ReadonlySet<string> = new Set([
  'ready',
  'token',
  'done',
  'failed',
  'layer',
  'scanned',
]);
const PARENT_MESSAGE_TYPES: ReadonlySet<string> = new Set(['copy', 'scan', 'token', 'cancel']);

const typed = (value: unknown, types: ReadonlySet<string>): boolean =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { type?: unknown }).type === 'string' &&
  types.has((value as { type: string }).type);

/** IPC hands over whatever the other side sent: anything without a known `type` is dropped. */
export const isChildMessage = (value: unknown): value is ChildMessage => typed(value, CHILD_MESSAGE_TYPES);
export const isParentMessage = (value: unknown): value is ParentMessage => typed(value, PARENT_MESSAGE_TYPES);
