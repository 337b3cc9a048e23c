// A client for one configured registry (OCI distribution API): manifests, blobs, referrers, and
// the writes the promoter needs. Every digest is checked against the bytes; every size is bounded.
import type { Readable } from 'node:stream';

import { DigestVerifier, sha256Digest } from './digest-stream';
import { RegistryError, redactUrl, type RegistryErrorDetails, type RegistryErrorKind } from './errors';
import { HttpTransport, discard, readBody, type HttpMethod, type HttpResponse } from './http-transport';
import { bareMediaType, parseManifest } from './manifest-parser';
import { MANIFEST_ACCEPT, MANIFEST_MEDIA_TYPES, MediaType, isImageIndex, type Manifest } from './media-types';
import { assertDigest, assertReference, assertRepository, digestTag, repositoryScope } from './references';
import {
  MAX_REFERRERS_PAGES,
  filterByArtifactType,
  nextLink,
  type ReferrersOptions,
  type ReferrersResult,
} from './referrers';
import { resolveRegistryConfig, type RegistryConfig, type ResolvedRegistryConfig } from './registry-config';
import { challengesOf, RegistryAuthenticator } from './token-auth';

/** A manifest as the registry holds it: the exact bytes, and the digest computed from them. */
export interface ManifestResult {
  mediaType: string;
  /** sha256 of `bytes`, computed here (and equal to the reference when that was a digest). */
  digest: string;
  size: number;
  bytes: Buffer;
  json: Manifest;
}

/** What a HEAD says about a manifest. Nothing here is verified: no bytes were read. */
export interface ManifestHead {
  digest?: string;
  mediaType?: string;
  size?: number;
}

/** Bounds of a tag listing: a registry with a million tags costs a bounded number of requests. */
export interface TagListOptions {
  /** Tags asked for per page (the `n` parameter); registries may send fewer. */
  pageSize: number;
  /** Pages read at most; the listing is then `truncated`. */
  maxPages: number;
  /** Tags kept at most; the listing is then `truncated`. */
  maxTags: number;
}

export interface TagList {
  /** false when the registry does not know the repository (404): it has no tags at all. */
  exists: boolean;
  tags: string[];
  /** A bound was reached: there may be more tags than `tags` holds. */
  truncated: boolean;
  pages: number;
}

export interface BlobReadOptions {
  /** Refuse (too_large) blobs over this many bytes. */
  maxBytes: number;
  /** The size the blob must have, from the descriptor that names it. */
  size?: number;
}

interface Operation {
  method: HttpMethod;
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  /** Token scopes this operation needs. */
  scopes: string[];
  repository: string;
  /** Follow redirects (GET/HEAD only) to the registry itself or a configured redirect host. */
  followRedirects?: boolean;
  /** Response body size known from a descriptor (for the deadline). */
  expectedBytes?: number;
  /** A shorter deadline than the configured one (best-effort clean-up). */
  deadlineMs?: number;
}

const MAX_REDIRECTS = 5;
/** A clean-up request must not hold up the failure it cleans up after. */
const CANCEL_DEADLINE_MS = 10_000;
const MAX_ERROR_BODY_BYTES = 16 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export class RegistryClient {
  private readonly config: ResolvedRegistryConfig;
  private readonly transport: HttpTransport;
  private readonly auth: RegistryAuthenticator;

  constructor(config: RegistryConfig) {
    this.config = resolveRegistryConfig(config);
    this.transport = new HttpTransport(this.config.timeoutMs, {
      deadlineMs: this.config.deadlineMs,
      minBytesPerSecond: this.config.minBytesPerSecond,
    });
    this.auth = new RegistryAuthenticator(this.config, this.transport);
  }

  /** `host[:port]` of this registry. */
  get host(): string {
    return this.config.host;
  }

  /** Closes pooled connections. */
  close(): void {
    this.transport.close();
  }

  // --- Reads -------------------------------------------------------------------------------------

  /**
   * Fetches a manifest by tag or digest. The digest is computed from the bytes; when `reference` is
   * a digest, or the registry sends Docker-Content-Digest, they must agree (digest_mismatch).
   */
  async getManifest(repository: string, reference: string): Promise<ManifestResult> {
    assertRepository(repository);
    const { isDigest } = assertReference(reference);
    const context = this.context(repository);
    const what = `manifest ${named(repository, reference)} on ${this.host}`;
    const response = await this.send({
      method: 'GET',
      url: this.url(`/v2/${repository}/manifests/${reference}`),
      headers: { accept: MANIFEST_ACCEPT },
      scopes: [repositoryScope(repository, 'pull')],
      repository,
      followRedirects: true,
    });
    if (response.status !== 200) throw await this.failure(response, what, context);
    const bytes = await readBody(response, this.config.maxManifestBytes, what, context);
    const digest = sha256Digest(bytes);
    if (isDigest && digest !== reference) {
      throw new RegistryError(
        'digest_mismatch',
        `${what}: the registry returned content that hashes to ${digest}; refusing it`,
        context,
      );
    }
    const claimed = headerValue(response, 'docker-content-digest');
    if (claimed !== undefined && claimed !== digest) {
      throw new RegistryError(
        'digest_mismatch',
        `${what}: the registry says ${claimed.slice(0, 80)} but the content hashes to ${digest}`,
        context,
      );
    }
    const { mediaType, json } = parseManifest(bytes, headerValue(response, 'content-type'), what, context);
    return { mediaType, digest, size: bytes.length, bytes, json };
  }

  /** HEAD of a manifest: null when it does not exist. */
  async headManifest(repository: string, reference: string): Promise<ManifestHead | null> {
    assertRepository(repository);
    const { isDigest } = assertReference(reference);
    const context = this.context(repository);
    const what = `manifest ${named(repository, reference)} on ${this.host}`;
    const response = await this.send({
      method: 'HEAD',
      url: this.url(`/v2/${repository}/manifests/${reference}`),
      headers: { accept: MANIFEST_ACCEPT },
      scopes: [repositoryScope(repository, 'pull')],
      repository,
      followRedirects: true,
    });
    discard(response);
    if (response.status === 404) return null;
    if (response.status !== 200) throw await this.failure(response, what, context);
    const digest = headerValue(response, 'docker-content-digest');
    if (isDigest && digest !== undefined && digest !== reference) {
      throw new RegistryError(
        'digest_mismatch',
        `${what}: the registry answered for ${digest.slice(0, 80)}`,
        context,
      );
    }
    const length = Number(headerValue(response, 'content-length'));
    return {
      digest,
      mediaType: bareMediaType(headerValue(response, 'content-type')),
      size: Number.isSafeInteger(length) ? length : undefined,
    };
  }

  /**
   * The digest a tag points at now. HEAD gives the registry's claim; the manifest is then fetched
   * by that digest and hashed, so the answer is always verified (and a registry that sends no
   * Docker-Content-Digest is read by tag and hashed instead).
   */
  async resolveTag(repository: string, tag: string): Promise<string> {
    assertRepository(repository);
    if (assertReference(tag).isDigest) return (await this.getManifest(repository, tag)).digest;
    const head = await this.headManifest(repository, tag);
    if (head === null) {
      throw new RegistryError('not_found', `tag ${repository}:${tag} does not exist on ${this.host}`, {
        ...this.context(repository),
        status: 404,
      });
    }
    if (head.digest === undefined) return (await this.getManifest(repository, tag)).digest;
    if (!/^sha256:[a-f0-9]{64}$/.test(head.digest)) {
      throw new RegistryError(
        'protocol',
        `tag ${repository}:${tag} on ${this.host}: Docker-Content-Digest ${head.digest.slice(0, 80)} is not a sha256 digest`,
        this.context(repository),
      );
    }
    return (await this.getManifest(repository, head.digest)).digest;
  }

  /**
   * Streams a blob. The stream errors (digest_mismatch) at its end when the bytes do not hash to
   * `digest`, and (too_large) as soon as they pass `maxBytes`: treat what it gave as untrusted
   * until it ends cleanly. Redirects go only to the registry itself or configured redirect hosts.
   */
  async getBlob(repository: string, digest: string, options: BlobReadOptions): Promise<Readable> {
    assertRepository(repository);
    assertDigest(digest);
    const context = this.context(repository);
    const what = `blob ${digest} of ${repository} on ${this.host}`;
    const response = await this.send({
      method: 'GET',
      url: this.url(`/v2/${repository}/blobs/${digest}`),
      scopes: [repositoryScope(repository, 'pull')],
      repository,
      followRedirects: true,
      expectedBytes: options.size,
    });
    if (response.status !== 200) throw await this.failure(response, what, context);
    const declared = Number(headerValue(response, 'content-length'));
    if (Number.isSafeInteger(declared)) {
      if (declared > options.maxBytes) {
        response.body.destroy();
        throw new RegistryError(
          'too_large',
          `${what} has ${declared} bytes, over the limit of ${options.maxBytes}`,
          context,
        );
      }
      if (options.size !== undefined && declared !== options.size) {
        response.body.destroy();
        throw new RegistryError(
          'digest_mismatch',
          `${what} has ${declared} bytes but its descriptor says ${options.size}`,
          context,
        );
      }
    }
    const verifier = new DigestVerifier({
      digest,
      maxBytes: options.maxBytes,
      size: options.size,
      context,
      label: what,
    });
    const body = response.body;
    body.on('error', (error) => {
      verifier.destroy(
        error instanceof RegistryError
          ? error
          : new RegistryError(
              'unavailable',
              `${what}: the download broke off (${errorCode(error)})`,
              context,
            ),
      );
    });
    // When the consumer stops early, stop downloading.
    verifier.on('close', () => {
      if (!body.readableEnded) body.destroy();
    });
    body.pipe(verifier);
    return verifier;
  }

  /** A small blob in memory (configs, signature payloads), verified, at most `maxBytes`. */
  async getBlobBytes(repository: string, digest: string, options: BlobReadOptions): Promise<Buffer> {
    const stream = await this.getBlob(repository, digest, options);
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  async blobExists(repository: string, digest: string): Promise<boolean> {
    assertRepository(repository);
    assertDigest(digest);
    const response = await this.send({
      method: 'HEAD',
      url: this.url(`/v2/${repository}/blobs/${digest}`),
      scopes: [repositoryScope(repository, 'pull')],
      repository,
      followRedirects: true,
    });
    discard(response);
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw await this.failure(
      response,
      `blob ${digest} of ${repository} on ${this.host}`,
      this.context(repository),
    );
  }

  /**
   * Manifests that refer to `digest`: the OCI 1.1 referrers API, or, where the registry does not
   * have it (404, e.g. distribution 2.8), the OCI index tagged `sha256-<hex>`. No index: no
   * referrers. See ReferrersResult: callers must check each manifest's subject.
   */
  async referrers(
    repository: string,
    digest: string,
    options: ReferrersOptions = {},
  ): Promise<ReferrersResult> {
    assertRepository(repository);
    assertDigest(digest);
    const context = this.context(repository);
    const what = `referrers of ${repository}@${digest} on ${this.host}`;
    let url: URL | undefined = this.url(`/v2/${repository}/referrers/${digest}`);
    if (options.artifactType !== undefined) url.searchParams.set('artifactType', options.artifactType);
    const manifests: ReferrersResult['manifests'] = [];
    for (let page = 0; url !== undefined; page++) {
      if (page >= MAX_REFERRERS_PAGES) {
        throw new RegistryError('too_large', `${what}: more than ${MAX_REFERRERS_PAGES} pages`, context);
      }
      const response: HttpResponse = await this.send({
        method: 'GET',
        url,
        headers: { accept: MediaType.OciIndex },
        scopes: [repositoryScope(repository, 'pull')],
        repository,
      });
      if (response.status === 404 && page === 0) {
        discard(response);
        return this.referrersByTagSchema(repository, digest, options);
      }
      if (response.status !== 200) throw await this.failure(response, what, context);
      const bytes = await readBody(response, this.config.maxManifestBytes, what, context);
      const { json } = parseManifest(bytes, MediaType.OciIndex, what, context);
      if (!isImageIndex(json))
        throw new RegistryError('protocol', `${what}: the answer is not an index`, context);
      manifests.push(...json.manifests);
      const next = nextLink(response.headers.link, url);
      if (next !== undefined && next.origin !== this.config.origin) {
        throw new RegistryError(
          'protocol',
          `${what}: the next page is on another host (${redactUrl(next)})`,
          context,
        );
      }
      url = next;
    }
    return { source: 'api', manifests: filterByArtifactType(manifests, options.artifactType) };
  }

  private async referrersByTagSchema(
    repository: string,
    digest: string,
    options: ReferrersOptions,
  ): Promise<ReferrersResult> {
    const index = await this.tagSchemeManifest(repository, digest);
    if (index === null) return { source: 'tag-schema', manifests: [] };
    if (!isImageIndex(index.json)) {
      throw new RegistryError(
        'protocol',
        `tag ${repository}:${digestTag(digest)} on ${this.host} should be the referrers index but is a ${index.mediaType}`,
        this.context(repository),
      );
    }
    return {
      source: 'tag-schema',
      manifests: filterByArtifactType(index.json.manifests, options.artifactType),
    };
  }

  /**
   * The manifest tagged `sha256-<hex>` (no suffix: the referrers fallback index) or
   * `sha256-<hex>.<suffix>` (cosign: `sig`, `att`, `sbom`); null when there is none.
   */
  async tagSchemeManifest(
    repository: string,
    digest: string,
    suffix?: string,
  ): Promise<ManifestResult | null> {
    const tag = digestTag(digest, suffix);
    try {
      return await this.getManifest(repository, tag);
    } catch (error) {
      if (error instanceof RegistryError && error.kind === 'not_found') return null;
      throw error;
    }
  }

  /**
   * The repository's tags (`GET /v2/<name>/tags/list`), following `Link: rel="next"` pages on this
   * registry only, within `options`' bounds. Needs pull only.
   */
  async listTags(repository: string, options: TagListOptions): Promise<TagList> {
    assertRepository(repository);
    const context = this.context(repository);
    const what = `tags of ${repository} on ${this.host}`;
    const tags: string[] = [];
    let url: URL | undefined = this.url(`/v2/${repository}/tags/list`);
    url.searchParams.set('n', String(options.pageSize));
    let pages = 0;
    while (url !== undefined) {
      if (pages >= options.maxPages || tags.length >= options.maxTags)
        return { exists: true, tags, truncated: true, pages };
      const response: HttpResponse = await this.send({
        method: 'GET',
        url,
        headers: { accept: 'application/json' },
        scopes: [repositoryScope(repository, 'pull')],
        repository,
      });
      pages += 1;
      if (response.status === 404 && pages === 1) {
        discard(response);
        return { exists: false, tags: [], truncated: false, pages };
      }
      if (response.status !== 200) throw await this.failure(response, what, context);
      const bytes = await readBody(response, this.config.maxManifestBytes, what, context);
      let page: unknown;
      try {
        page = JSON.parse(bytes.toString('utf8'));
      } catch {
        throw new RegistryError('protocol', `${what}: the answer is not JSON`, context);
      }
      const listed = (page as { tags?: unknown } | null)?.tags ?? [];
      if (!Array.isArray(listed) || !listed.every((t): t is string => typeof t === 'string'))
        throw new RegistryError('protocol', `${what}: "tags" is not a list of names`, context);
      for (const tag of listed) {
        if (tags.length >= options.maxTags) return { exists: true, tags, truncated: true, pages };
        tags.push(tag);
      }
      const next = nextLink(response.headers.link, url);
      if (next !== undefined && next.origin !== this.config.origin) {
        throw new RegistryError(
          'protocol',
          `${what}: the next page is on another host (${redactUrl(next)})`,
          context,
        );
      }
      url = next;
    }
    return { exists: true, tags, truncated: false, pages };
  }

  /**
   * Obtains credentials for `actions` on the repository (and pull on `alsoPull`, the repositories a
   * mount may take blobs from) before a request needs them: later requests send them at once
   * instead of meeting a 401 each, and one token serves every read, write and mount of a copy
   * (instead of a grant for pull, one for push on the first upload, one more for the first mount).
   * Nothing is asked when a cached credential covers them; a registry that wants none (no 401 on
   * `/v2/`) is left as it is.
   */
  async authorize(
    repository: string,
    actions: 'pull' | 'pull,push',
    alsoPull: readonly string[] = [],
  ): Promise<void> {
    assertRepository(repository);
    alsoPull.forEach(assertRepository);
    const scopes = [
      repositoryScope(repository, actions),
      ...alsoPull.filter((r) => r !== repository).map((r) => repositoryScope(r, 'pull')),
    ];
    if (this.auth.cached(scopes) !== undefined) return;
    const context = this.context(repository);
    const response = await this.transport.send(
      { method: 'GET', url: this.url('/v2/'), headers: {} },
      context,
    );
    discard(response);
    if (response.status === 401) await this.auth.answer(response.headers, scopes, undefined, context);
  }

  // --- Writes ------------------------------------------------------------------------------------

  /** Stores a manifest under a tag or its digest; returns its digest (checked with the registry's). */
  async putManifest(
    repository: string,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<string> {
    assertRepository(repository);
    const { isDigest } = assertReference(reference);
    const context = this.context(repository);
    const what = `manifest ${named(repository, reference)} on ${this.host}`;
    if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) {
      throw new RegistryError(
        'invalid_request',
        `${what}: media type ${mediaType} is not a manifest type`,
        context,
      );
    }
    if (bytes.length > this.config.maxManifestBytes) {
      throw new RegistryError(
        'too_large',
        `${what}: ${bytes.length} bytes, over the limit of ${this.config.maxManifestBytes}`,
        context,
      );
    }
    try {
      parseManifest(bytes, mediaType, what, context);
    } catch (error) {
      // Our caller's bytes, not the registry's answer.
      if (error instanceof RegistryError) throw new RegistryError('invalid_request', error.message, context);
      throw error;
    }
    const digest = sha256Digest(bytes);
    if (isDigest && digest !== reference) {
      throw new RegistryError('digest_mismatch', `${what}: the bytes hash to ${digest}`, context);
    }
    const response = await this.send({
      method: 'PUT',
      url: this.url(`/v2/${repository}/manifests/${reference}`),
      headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
      body: bytes,
      scopes: [repositoryScope(repository, 'pull,push')],
      repository,
    });
    if (response.status !== 201) throw await this.failure(response, `storing ${what}`, context);
    discard(response);
    this.checkReturnedDigest(response, digest, `storing ${what}`, context);
    return digest;
  }

  /**
   * Uploads one blob from a stream (POST, then a single PUT with the digest), never holding it in
   * memory. The stream must give exactly `size` bytes hashing to `digest`; otherwise the upload is
   * aborted and the error says so. A source stream's own RegistryError is passed on unchanged.
   */
  async blobUpload(
    repository: string,
    digest: string,
    size: number,
    stream: Readable,
    options: {
      /**
       * The stream is `getBlob`'s for this same digest and size, which verifies while reading: a
       * second hash of every byte is skipped (the registry checks the digest on the final PUT too).
       */
      sourceVerified?: boolean;
    } = {},
  ): Promise<void> {
    assertRepository(repository);
    assertDigest(digest);
    const context = this.context(repository);
    const what = `blob ${digest} to ${repository} on ${this.host}`;
    if (!Number.isSafeInteger(size) || size < 0) {
      stream.destroy();
      throw new RegistryError('invalid_request', `${what}: size ${size} is not a byte count`, context);
    }
    const scopes = [repositoryScope(repository, 'pull,push')];
    let location: URL;
    try {
      location = await this.startUpload(repository, scopes, what);
    } catch (error) {
      stream.destroy();
      throw error;
    }
    const session = location.href;
    location.searchParams.set('digest', digest);
    const verifier = new DigestVerifier({
      digest,
      // A longer stream is the wrong content (digest_mismatch), not merely too much of it.
      maxBytes: Number.MAX_SAFE_INTEGER,
      size,
      context,
      label: `upload of ${what}`,
      mismatchHint: 'the source does not hold this blob; nothing was stored',
    });
    const body: Readable = options.sourceVerified ? stream : verifier;
    if (!options.sourceVerified) {
      stream.on('error', (error) => verifier.destroy(error));
      stream.pipe(verifier);
    }
    let response: HttpResponse;
    try {
      response = await this.send({
        method: 'PUT',
        url: location,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        body,
        scopes,
        repository,
      });
    } catch (error) {
      body.destroy();
      verifier.destroy();
      stream.destroy();
      await this.cancelUpload(session, repository);
      throw error instanceof RegistryError
        ? error
        : new RegistryError('unavailable', `${what}: the upload broke off (${errorCode(error)})`, context);
    }
    if (response.status !== 201) {
      body.destroy();
      verifier.destroy();
      stream.destroy();
      const failure = await this.failure(response, `uploading ${what}`, context);
      await this.cancelUpload(session, repository);
      throw failure;
    }
    discard(response);
    this.checkReturnedDigest(response, digest, `uploading ${what}`, context);
  }

  /**
   * Asks the registry to link a blob from another repository on it (no bytes move). Returns false
   * when it would not (it then opened an upload, which is cancelled here): upload the blob instead.
   */
  async mountBlob(repository: string, digest: string, fromRepository: string): Promise<boolean> {
    assertRepository(repository);
    assertRepository(fromRepository);
    assertDigest(digest);
    const what = `mount of ${digest} from ${fromRepository} into ${repository} on ${this.host}`;
    const scopes = [repositoryScope(repository, 'pull,push'), repositoryScope(fromRepository, 'pull')];
    const url = this.url(`/v2/${repository}/blobs/uploads/`);
    url.searchParams.set('mount', digest);
    url.searchParams.set('from', fromRepository);
    const response = await this.send({ method: 'POST', url, scopes, repository });
    const context = this.context(repository);
    if (response.status === 201) {
      discard(response);
      this.checkReturnedDigest(response, digest, what, context);
      return true;
    }
    if (response.status === 202) {
      discard(response);
      const location = this.uploadLocation(response, what, context);
      await this.cancelUpload(location.href, repository);
      return false;
    }
    throw await this.failure(response, what, context);
  }

  // --- Plumbing ----------------------------------------------------------------------------------

  private context(repository: string): RegistryErrorDetails {
    return { registry: this.config.host, repository };
  }

  private url(path: string): URL {
    return new URL(path, this.config.origin);
  }

  private isRegistry(url: URL): boolean {
    return url.origin === this.config.origin;
  }

  /** Whether the client may send a request to `url` at all (redirects, upload locations). */
  private mayVisit(url: URL): boolean {
    if (this.isRegistry(url)) return true;
    if (url.protocol !== 'https:' && !(this.config.insecure && url.protocol === 'http:')) return false;
    if (url.username !== '' || url.password !== '') return false;
    return this.config.redirectHosts.has(url.host.toLowerCase());
  }

  /**
   * Sends an operation: adds the cached Authorization (to the registry only), answers one 401 with
   * the challenge's credentials, and follows allowed redirects of GET/HEAD. Returns the final
   * response, whatever its status.
   */
  private async send(op: Operation): Promise<HttpResponse> {
    const context = this.context(op.repository);
    let url = op.url;
    let authorization = this.isRegistry(url) ? this.auth.cached(op.scopes) : undefined;
    let answered = false;
    for (let redirects = 0; ;) {
      const headers: Record<string, string> = { ...op.headers };
      // Credentials go to the registry's own origin, never to redirect targets.
      if (authorization !== undefined && this.isRegistry(url)) headers.authorization = authorization;
      const response = await this.transport.send(
        {
          method: op.method,
          url,
          headers,
          body: op.body,
          expectedBytes: op.expectedBytes,
          deadlineMs: op.deadlineMs,
        },
        context,
      );
      if (response.status === 401 && this.isRegistry(url)) {
        discard(response);
        if (answered) throw this.refusedAfterAuth(response, op, context, authorization);
        if (op.body !== undefined && !Buffer.isBuffer(op.body)) {
          throw new RegistryError(
            'unauthorized',
            `registry ${this.host} refused the credentials for an upload to ${op.repository} (expired token?); retry`,
            { ...context, status: 401, permanent: false },
          );
        }
        authorization = await this.auth.answer(response.headers, op.scopes, authorization, context);
        answered = true;
        continue;
      }
      if (REDIRECT_STATUSES.has(response.status) && op.followRedirects === true) {
        discard(response);
        const location = headerValue(response, 'location');
        if (location === undefined || !URL.canParse(location, url.href)) {
          throw new RegistryError(
            'protocol',
            `${op.method} ${redactUrl(url)}: a redirect without a usable Location`,
            {
              ...context,
              status: response.status,
            },
          );
        }
        const next = new URL(location, url);
        if (!this.mayVisit(next)) {
          throw new RegistryError(
            'denied',
            `registry ${this.host} redirected ${op.method} ${redactUrl(url)} to ${next.protocol}//${next.host}, ` +
              `which is not one of its configured redirectHosts; not followed`,
            { ...context, status: response.status },
          );
        }
        if (++redirects > MAX_REDIRECTS) {
          throw new RegistryError(
            'protocol',
            `${op.method} ${redactUrl(op.url)}: more than ${MAX_REDIRECTS} redirects`,
            context,
          );
        }
        url = next;
        continue;
      }
      return response;
    }
  }

  private refusedAfterAuth(
    response: HttpResponse,
    op: Operation,
    context: RegistryErrorDetails,
    authorization: string | undefined,
  ): RegistryError {
    const insufficient = challengesOf(response.headers).some((c) => c.params.error === 'insufficient_scope');
    const scopes = op.scopes.join(' ');
    const expiredAt = expiredBearer(authorization, Date.now());
    if (!insufficient && expiredAt !== undefined) {
      // Not a trust problem: the token was already past its `exp` (clock skew between us and the
      // issuer, or a lifetime shorter than the operation). A new token may well work: transient.
      return new RegistryError(
        'unauthorized',
        `registry ${this.host} refused the token for "${scopes}": it had expired at ${expiredAt.toISOString()} (token lifetime or clock skew between Airlock and the token issuer)`,
        { ...context, status: 401, permanent: false },
      );
    }
    return insufficient
      ? new RegistryError(
          'denied',
          `registry ${this.host} says the token does not grant "${scopes}"; grant those rights to the configured identity`,
          { ...context, status: 401 },
        )
      : new RegistryError(
          'unauthorized',
          `registry ${this.host} refused the credentials for "${scopes}" even after authenticating; check the configured credentials and the registry's trust in its token issuer`,
          { ...context, status: 401 },
        );
  }

  /** POSTs a new upload session and returns where to send the bytes. */
  private async startUpload(repository: string, scopes: string[], what: string): Promise<URL> {
    const context = this.context(repository);
    const url = this.url(`/v2/${repository}/blobs/uploads/`);
    const response = await this.send({ method: 'POST', url, scopes, repository });
    if (response.status !== 202)
      throw await this.failure(response, `starting the upload of ${what}`, context);
    discard(response);
    return this.uploadLocation(response, what, context);
  }

  private uploadLocation(response: HttpResponse, what: string, context: RegistryErrorDetails): URL {
    const location = headerValue(response, 'location');
    if (location === undefined || !URL.canParse(location, response.url.href)) {
      throw new RegistryError('protocol', `${what}: the upload session has no usable Location`, context);
    }
    const url = new URL(location, response.url);
    if (!this.mayVisit(url)) {
      throw new RegistryError(
        'denied',
        `${what}: the registry wants the bytes sent to ${url.protocol}//${url.host}, which is not a configured redirect host`,
        context,
      );
    }
    return url;
  }

  /**
   * Cancels an upload session (DELETE on its location), so a failed copy leaves no upload session
   * behind. Best effort and bounded (CANCEL_DEADLINE_MS), awaited so the client is not closed
   * under it; never throws. Returns whether the registry confirmed it (204, or 404: gone).
   *
   * Distribution 2.8 refuses (404 BLOB_UPLOAD_INVALID) to cancel a session that already received
   * bytes: its upload state, signed into the location, still says offset 0. Those partial uploads
   * (and those of a worker killed mid-copy) are removed only by the registry's upload purging
   * (`storage.maintenance.uploadpurging`); see docs/reliability.md.
   */
  private async cancelUpload(location: string, repository: string): Promise<boolean> {
    let cancelled = false;
    if (URL.canParse(location)) {
      const url = new URL(location);
      url.searchParams.delete('digest');
      if (this.mayVisit(url)) {
        try {
          const response = await this.send({
            method: 'DELETE',
            url,
            scopes: [repositoryScope(repository, 'pull,push')],
            repository,
            deadlineMs: CANCEL_DEADLINE_MS,
          });
          discard(response);
          cancelled = response.status === 204 || response.status === 404;
        } catch {
          // best effort
        }
      }
    }
    return cancelled;
  }

  private checkReturnedDigest(
    response: HttpResponse,
    digest: string,
    what: string,
    context: RegistryErrorDetails,
  ): void {
    const returned = headerValue(response, 'docker-content-digest');
    if (returned !== undefined && returned !== digest) {
      throw new RegistryError(
        'digest_mismatch',
        `${what}: the registry stored it as ${returned.slice(0, 80)}, not ${digest}`,
        context,
      );
    }
  }

  /** The error for an unexpected answer, with the registry's own error code and message. */
  private async failure(
    response: HttpResponse,
    what: string,
    context: RegistryErrorDetails,
  ): Promise<RegistryError> {
    const status = response.status;
    let registryCode: string | undefined;
    let registryMessage: string | undefined;
    try {
      const body = await readBody(response, MAX_ERROR_BODY_BYTES, 'error answer', context);
      const parsed = JSON.parse(body.toString('utf8')) as {
        errors?: { code?: unknown; message?: unknown }[];
      };
      const first = parsed.errors?.[0];
      if (typeof first?.code === 'string') registryCode = first.code.slice(0, 64);
      if (typeof first?.message === 'string')
        registryMessage = first.message.replace(/[^\x20-\x7e]/g, ' ').slice(0, 200);
    } catch {
      // no (JSON) body: the status says enough
    }
    const detail =
      registryCode !== undefined ? ` (${registryCode}${registryMessage ? `: ${registryMessage}` : ''})` : '';
    const kind = errorKind(status, registryCode);
    const advice = (registryCode !== undefined ? CODE_ADVICE[registryCode] : undefined) ?? KIND_ADVICE[kind];
    return new RegistryError(kind, `${what}: ${status}${detail}; ${advice}`, {
      ...context,
      status,
      registryCode,
    });
  }
}

/** `repo:tag` or `repo@sha256:…`, as people write references. */
function named(repository: string, reference: string): string {
  return reference.startsWith('sha256:') ? `${repository}@${reference}` : `${repository}:${reference}`;
}

function headerValue(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (error instanceof Error ? error.message : String(error));
}

const KIND_ADVICE: Record<RegistryErrorKind, string> = {
  not_found: 'it does not exist',
  unauthorized: 'the registry did not accept our identity; check the configured credentials',
  denied: 'the configured identity may not do this',
  too_large: 'the registry refused the size',
  digest_mismatch: 'the content does not match its digest',
  unavailable: 'the registry is unavailable; retry later',
  protocol: 'the registry did not accept the request',
  invalid_request: 'the request was invalid',
};

/** Advice for distribution error codes where the kind alone does not say what to do. */
const CODE_ADVICE: Record<string, string | undefined> = {
  MANIFEST_BLOB_UNKNOWN: 'push every blob and child manifest it references first',
  MANIFEST_INVALID: 'the registry does not accept this manifest (format or references)',
  UNSUPPORTED: 'the registry does not support this operation or media type',
  NAME_INVALID: 'the registry does not accept this repository name',
  TAG_INVALID: 'the registry does not accept this tag',
  SIZE_INVALID: 'the uploaded length did not match the declared size',
};

function errorKind(status: number, registryCode: string | undefined): RegistryErrorKind {
  if (registryCode === 'DIGEST_INVALID') return 'digest_mismatch';
  if (status === 404) return 'not_found';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'denied';
  if (status === 413) return 'too_large';
  if (status === 429 || status === 408 || status >= 500) return 'unavailable';
  return 'protocol';
}

/** When a Bearer JWT's `exp` is in the past, that instant; else undefined (opaque tokens, Basic). */
export function expiredBearer(authorization: string | undefined, nowMs: number): Date | undefined {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && exp * 1000 <= nowMs ? new Date(exp * 1000) : undefined;
  } catch {
    return undefined;
  }
}
