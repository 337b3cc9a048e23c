// `airlock verify-attestation`: checks the statements Airlock signed and attached to a promoted
// image (cosign's `sha256-<hex>.att`), talking only to the registry. Plain code: no Nest, no
// TypeORM (libs/oci's index and the trust verifiers are imported by path).
import { isSha256Digest } from '../../libs/oci/digest-stream';
import { RegistryError } from '../../libs/oci/errors';
import { type Descriptor, isImageIndex } from '../../libs/oci/media-types';
import { assertRepository, digestTag } from '../../libs/oci/references';
import { type RegistryClient } from '../../libs/oci/registry-client';
import { type AttestationFinding, verifyAttestation } from '../../libs/trust/attestation.verifier';
import { parseStatement } from '../../libs/trust/in-toto-statement';
import {
  PROMOTION_ID_ANNOTATION,
  PROMOTION_PREDICATE,
  VSA_PREDICATE,
} from '../../libs/trust/promotion-attestation';
import { type VerificationKey, VerificationKeys } from '../../libs/domain/signing-key-set';
import { compileTrust } from '../../libs/trust/signer-trust';
import { UsageError } from './args';
import { ExitCode } from './exit-codes';
import { fields } from './output';

/** What the command needs of a registry client (a fake in unit tests). */
export type AttestationRegistry = Pick<
  RegistryClient,
  'headManifest' | 'tagSchemeManifest' | 'getBlobBytes' | 'close'
>;

/** The name the public key goes by in the findings. */
export const AIRLOCK_KEY_NAME = 'airlock';
/** Largest attestation layer read (Airlock's envelopes are a few KiB). */
export const MAX_LAYER_BYTES = 1 << 20;
/**
 * Layers with a predicate we look for, at most this many are read: a bound on what a registry can
 * make us fetch. Each promotion of a digest (a re-promotion, a rollback) appends two.
 */
export const MAX_CANDIDATE_LAYERS = 32;
/** The two predicates Airlock attaches, both required. */
export const REQUIRED_PREDICATES = [PROMOTION_PREDICATE, VSA_PREDICATE] as const;

export interface ImageReference {
  /** `host[:port]` */
  registry: string;
  repository: string;
  digest: string;
}

/**
 * `registry/repository@sha256:<hex>` (a `:tag` before the `@` is accepted and ignored: the digest
 * is what gets verified). The registry is always the first component: no Docker Hub default.
 */
export function parseImageReference(text: string): ImageReference {
  const usage = (why: string): UsageError =>
    new UsageError(`"${text.slice(0, 200)}" ${why}: expected registry/repository@sha256:<64 hex>`);
  const at = text.lastIndexOf('@');
  if (at < 0) throw usage('is not pinned by digest');
  const digest = text.slice(at + 1);
  if (!isSha256Digest(digest)) throw usage('has no valid sha256 digest');
  let name = text.slice(0, at);
  const slash = name.indexOf('/');
  if (slash <= 0) throw usage('names no registry');
  const registry = name.slice(0, slash);
  name = name.slice(slash + 1);
  const colon = name.lastIndexOf(':');
  if (colon >= 0 && !name.slice(colon).includes('/')) name = name.slice(0, colon);
  try {
    assertRepository(name);
  } catch {
    throw usage(`names an invalid repository "${name.slice(0, 100)}"`);
  }
  if (!/^[a-z0-9.-]+(:\d{1,5})?$/i.test(registry)) throw usage(`names an invalid registry "${registry}"`);
  return { registry: registry.toLowerCase(), repository: name, digest };
}

/**
 * Fails early (exit 1) on a key that cannot verify anything: a wrong key is exit 7, an unusable
 * one is a mistake in the call.
 */
export function assertUsableKey(publicKey: string, file: string): void {
  const compiled = compileTrust({ policy: { keys: [{ name: AIRLOCK_KEY_NAME, publicKey }] } });
  if (!compiled.ok) throw new UsageError(`--public-key ${file}: ${compiled.error}`);
}

/** One attestation layer looked at. */
export interface LayerResult {
  /** Layer digest in the `.att` manifest. */
  digest: string;
  /** The predicate type the layer's (unsigned) annotation claims. */
  annotatedPredicateType: string;
  /** Signature verified with the key and statement about the image digest. */
  verified: boolean;
  /** The envelope's `keyid` (empty on attestations signed before key ids). */
  keyId: string;
  /** The key of the set that verified it. */
  verifiedBy: string | null;
  /** The signed statement's predicate type (null when the signature did not verify). */
  predicateType: string | null;
  reason: string;
  detail: string;
}

export interface PredicateResult {
  predicateType: string;
  verified: boolean;
  /** The layer that verified. */
  layer: string | null;
  /** The signed predicate of that layer. */
  predicate: Record<string, unknown> | null;
}

export interface AttestationReport {
  image: string;
  digest: string;
  /** The `.att` manifest, null when the image has none. */
  attestation: { reference: string; digest: string } | null;
  /**
   * Both predicates present and verified, and every layer Airlock marked as its own (annotated
   * with the promotion it attests) verified: exit 0.
   */
  verified: boolean;
  /** The newest verified promotion predicate (the one that wrote the tag last). */
  promotion: PredicateResult;
  /**
   * Every verified promotion predicate, oldest first: earlier promotions of the digest and the
   * rollbacks to it are kept, as cosign appends.
   */
  promotions: PredicateResult[];
  verificationSummary: PredicateResult;
  layers: LayerResult[];
  /** Why it does not verify (exit 7). */
  problems: string[];
  /** Worth knowing, not a failure: the attestation names another target for this digest. */
  notes: string[];
}

/** Layer problems that make this layer not count; anything else (unreachable, denied) is an error. */
const LAYER_PROBLEMS = new Set(['not_found', 'too_large', 'digest_mismatch', 'protocol']);

function decodePredicate(envelope: unknown): Record<string, unknown> | null {
  const e = envelope as { payloadType?: unknown; payload?: unknown } | null;
  if (typeof e?.payloadType !== 'string' || typeof e.payload !== 'string') return null;
  const statement = parseStatement(e.payloadType, Buffer.from(e.payload, 'base64'));
  return typeof statement === 'string' ? null : statement.predicate;
}

/** The date the statement is signed at: the promotion's promotedAt, or the VSA's timeVerified. */
function statementTime(envelope: unknown): string | null {
  const p = decodePredicate(envelope);
  const at = p?.promotedAt ?? p?.timeVerified;
  return typeof at === 'string' ? at : null;
}

function envelopeKeyId(envelope: unknown): string {
  const sigs = (envelope as { signatures?: unknown } | null)?.signatures;
  const first: unknown = Array.isArray(sigs) ? sigs[0] : undefined;
  const keyid = (first as { keyid?: unknown } | undefined)?.keyid;
  return typeof keyid === 'string' ? keyid : '';
}

/**
 * The keys to try on one envelope: the one its `keyid` names, if the set has it and it was valid
 * at the statement's date; every key valid then when the envelope names none (attestations signed
 * before key ids). A reason instead when no key may verify it.
 */
function candidateKeys(
  keys: VerificationKeys,
  envelope: unknown,
): VerificationKey[] | { reason: string; detail: string } {
  const keyId = envelopeKeyId(envelope);
  const at = statementTime(envelope);
  if (keyId !== '') {
    const selected = keys.select(keyId, at);
    if (selected.ok) return [selected.key];
    return {
      reason: selected.problem === 'key_unknown' ? 'wrong_key' : 'key_not_valid',
      detail: selected.detail,
    };
  }
  const valid = keys.validKeys(at);
  return valid.length > 0
    ? valid
    : { reason: 'key_not_valid', detail: `no key of the set was valid at ${at ?? '(no date)'}` };
}

async function verifyLayer(
  registry: AttestationRegistry,
  ref: ImageReference,
  layer: Descriptor,
  keys: VerificationKeys,
): Promise<{ result: LayerResult; predicate: Record<string, unknown> | null }> {
  const base = {
    digest: layer.digest,
    annotatedPredicateType: layer.annotations?.predicateType ?? '',
    verified: false,
    keyId: '',
    verifiedBy: null,
    predicateType: null,
  };
  let envelope: unknown;
  try {
    const bytes = await registry.getBlobBytes(ref.repository, layer.digest, {
      maxBytes: MAX_LAYER_BYTES,
      size: layer.size,
    });
    envelope = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    if (e instanceof SyntaxError) {
      return { result: { ...base, reason: 'malformed', detail: 'the layer is not JSON' }, predicate: null };
    }
    if (e instanceof RegistryError && LAYER_PROBLEMS.has(e.kind)) {
      return { result: { ...base, reason: e.kind, detail: e.message }, predicate: null };
    }
    throw e;
  }
  base.keyId = envelopeKeyId(envelope);
  const candidates = candidateKeys(keys, envelope);
  if (!Array.isArray(candidates)) return { result: { ...base, ...candidates }, predicate: null };
  // Policy key names are short labels; each maps back to its key id.
  const named = candidates.map((k, i) => ({ name: `${AIRLOCK_KEY_NAME}-${i}`, key: k }));
  const verification = verifyAttestation(
    { envelope },
    {
      digest: ref.digest,
      trust: { policy: { keys: named.map((n) => ({ name: n.name, publicKey: n.key.publicKeyPem })) } },
      policy: {},
    },
  );
  const f: AttestationFinding | undefined = verification.findings[0];
  if (!f) {
    return {
      result: { ...base, reason: 'error', detail: verification.errors.join('; ') || verification.summary },
      predicate: null,
    };
  }
  const verified = f.signatureVerified && f.aboutArtifact;
  const by = f.signatureVerified ? (named.find((n) => n.name === f.key)?.key.keyId ?? null) : null;
  return {
    result: {
      ...base,
      verified,
      verifiedBy: by,
      predicateType: f.signatureVerified ? f.predicateType : null,
      reason: verified ? 'verified' : f.reason,
      detail: f.detail,
    },
    predicate: verified ? decodePredicate(envelope) : null,
  };
}

/**
 * Fetches the image's `.att` manifest and verifies the layers that claim one of Airlock's
 * predicates. A predicate counts when a layer's DSSE signature verifies with the key of `keys` its
 * `keyid` names (valid at the statement's date; every valid key when it names none), its
 * statement is about the image digest, and the signed predicate type (not the layer's unsigned
 * annotation) is that predicate. Registry failures other than a bad layer are thrown (exit 1).
 */
export async function checkImageAttestation(
  registry: AttestationRegistry,
  ref: ImageReference,
  keys: VerificationKeys | string,
): Promise<AttestationReport> {
  const keySet = typeof keys === 'string' ? VerificationKeys.single(keys) : keys;
  const image = `${ref.registry}/${ref.repository}@${ref.digest}`;
  const empty = (predicateType: string): PredicateResult => ({
    predicateType,
    verified: false,
    layer: null,
    predicate: null,
  });
  const report: AttestationReport = {
    image,
    digest: ref.digest,
    attestation: null,
    verified: false,
    promotion: empty(PROMOTION_PREDICATE),
    promotions: [],
    verificationSummary: empty(VSA_PREDICATE),
    layers: [],
    problems: [],
    notes: [],
  };
  if ((await registry.headManifest(ref.repository, ref.digest)) === null) {
    throw new RegistryError('not_found', `${image} was not found on ${ref.registry}`);
  }
  const tag = digestTag(ref.digest, 'att');
  const att = await registry.tagSchemeManifest(ref.repository, ref.digest, 'att');
  if (att === null) {
    report.problems.push(`the image has no attestation (no tag ${tag})`);
    return report;
  }
  report.attestation = { reference: `${ref.registry}/${ref.repository}:${tag}`, digest: att.digest };
  if (isImageIndex(att.json)) {
    report.problems.push(`${tag} is an index, not a cosign attestation manifest`);
    return report;
  }
  const wanted = new Set<string>(REQUIRED_PREDICATES);
  const candidates = (att.json.layers ?? []).filter((l) => wanted.has(l.annotations?.predicateType ?? ''));
  if (candidates.length > MAX_CANDIDATE_LAYERS) {
    report.notes.push(
      `${candidates.length} layers claim Airlock's predicates; only the newest ${MAX_CANDIDATE_LAYERS} were read`,
    );
  }
  // Layers are appended: the newest (the promotion that wrote the tag last) are at the end.
  for (const layer of candidates.slice(-MAX_CANDIDATE_LAYERS)) {
    const { result, predicate } = await verifyLayer(registry, ref, layer, keySet);
    report.layers.push(result);
    // The newest verified layer of each predicate speaks for the digest now (layers are appended).
    for (const p of [report.promotion, report.verificationSummary]) {
      if (result.verified && result.predicateType === p.predicateType) {
        Object.assign(p, { verified: true, layer: result.digest, predicate: predicate ?? {} });
      }
    }
    if (result.verified && result.predicateType === PROMOTION_PREDICATE) {
      report.promotions.push({
        predicateType: PROMOTION_PREDICATE,
        verified: true,
        layer: result.digest,
        predicate: predicate ?? {},
      });
    }
    const promotionId = layer.annotations?.[PROMOTION_ID_ANNOTATION];
    if (promotionId !== undefined && !result.verified) {
      report.problems.push(
        `the layer ${layer.digest.slice(0, 19)}… of promotion ${clean(promotionId)} does not verify: ${whyNot(result)}`,
      );
    }
  }
  for (const p of [report.promotion, report.verificationSummary]) {
    if (p.verified) continue;
    const tried = report.layers.filter((l) => l.annotatedPredicateType === p.predicateType);
    report.problems.push(
      tried.length === 0
        ? `no ${predicateName(p.predicateType)} in the attestation`
        : `no ${predicateName(p.predicateType)} verifies: ${tried.map((l) => `${l.digest.slice(0, 19)}… ${whyNot(l)}`).join('; ')}`,
    );
  }
  report.verified =
    report.promotion.verified && report.verificationSummary.verified && report.problems.length === 0;
  const target = obj(report.promotion.predicate?.target);
  if (
    report.promotion.verified &&
    (target.registry !== ref.registry || target.repository !== ref.repository)
  ) {
    // The statement is about the digest (checked); where Airlock put it is information.
    report.notes.push(
      `Airlock promoted this digest to ${clean(target.registry)}/${clean(target.repository)}, not ${ref.registry}/${ref.repository}`,
    );
  }
  return report;
}

export function exitCodeForReport(report: AttestationReport): ExitCode {
  return report.verified ? ExitCode.Ok : ExitCode.AttestationInvalid;
}

/** Why a layer labelled with a predicate did not count for it. */
function whyNot(l: LayerResult): string {
  if (l.verified) return `signed as ${clean(l.predicateType)}, not as its label says`;
  return `${l.reason} (${l.detail})`;
}

function predicateName(type: string): string {
  return type === PROMOTION_PREDICATE ? 'promotion attestation' : 'verification summary (VSA)';
}

// --- Human output ---------------------------------------------------------------------------------

/** Values from the registry go to a terminal: no control characters (escape sequences). */
const clean = (v: unknown): string =>
  (typeof v === 'string' ? v : v === undefined || v === null ? '-' : JSON.stringify(v)).replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    '?',
  );

const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.map(obj) : []);

function place(v: unknown): string {
  const p = obj(v);
  return `${clean(p.registry)}/${clean(p.repository)}@${clean(p.digest)}${typeof p.tag === 'string' ? ` (tag ${clean(p.tag)})` : ''}`;
}

/** The environment chain's evidence: the upstream promotion relied on, the soak, a freeze override. */
function gateFields(p: Record<string, unknown>): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  if (p.upstream !== undefined) {
    const u = obj(p.upstream);
    out.push([
      'upstream',
      p.upstream === null
        ? 'none (no upstream environment)'
        : `${clean(u.environment)}: promotion ${clean(u.promotionId)}${typeof u.tag === 'string' ? ` (tag ${clean(u.tag)})` : ''} at ${clean(u.promotedAt)}`,
    ]);
  }
  if (p.soak !== undefined && p.soak !== null) {
    const k = obj(p.soak);
    out.push([
      'soak',
      `${k.skipped === true ? 'skipped' : 'required'} ${clean(k.required)}; observed ${clean(k.observedSeconds)} s since ${clean(k.since)}`,
    ]);
  }
  if (p.freeze !== undefined) {
    const f = obj(p.freeze);
    const windows = Array.isArray(f.windows) ? f.windows.map(clean).join(', ') : '';
    out.push(['freeze', f.overridden === true ? `OVERRIDDEN by break-glass (${windows})` : 'none in force']);
  }
  return out;
}

function promotionLines(p: Record<string, unknown>): string[] {
  const policy = obj(p.policy);
  const lines = fields([
    ['environment', clean(p.environment)],
    ['source', place(p.source)],
    ['target', place(p.target)],
    ['policy', `v${clean(policy.version)} (sha256 ${clean(policy.sha256)})`],
    ['requester', clean(obj(p.requester).identity)],
    ['promoted at', clean(p.promotedAt)],
    ...(p.breakGlass === true ? [['break-glass', 'yes'] as const] : []),
    ...rollbackFields(p),
    ...gateFields(p),
  ]);
  const checks = list(p.checks);
  lines.push(checks.length ? '  checks:' : '  checks: none');
  for (const c of checks) lines.push(`    ${clean(c.kind)}: ${clean(c.status)}`);
  const approvals = list(p.approvals);
  lines.push(approvals.length ? '  approvals:' : '  approvals: none');
  for (const a of approvals) {
    lines.push(`    ${clean(a.approver)} (${clean(a.decision)} at ${clean(a.at)})`);
  }
  return lines;
}

/** A rollback says so, and names the promotions it rolled back from and to. */
function rollbackFields(p: Record<string, unknown>): Array<readonly [string, string]> {
  if (p.kind !== 'rollback') return [];
  const r = obj(p.rollback);
  return [
    ['kind', 'ROLLBACK'],
    ['rolled back from', `promotion ${clean(r.fromPromotionId)}`],
    ['restores', `promotion ${clean(r.toPromotionId)}`],
    ...(typeof r.reason === 'string' ? [['reason', clean(r.reason)] as const] : []),
  ];
}

function summaryLines(p: Record<string, unknown>): string[] {
  return fields([
    ['verifier', clean(obj(p.verifier).id)],
    ['result', clean(p.verificationResult)],
    ['policy', clean(obj(p.policy).uri)],
  ]);
}

export function formatAttestationReport(r: AttestationReport): string[] {
  const lines = [`attestation of ${r.image}: ${r.verified ? 'VERIFIED' : 'NOT VERIFIED'}`];
  if (r.attestation)
    lines.push(...fields([['attestation', `${r.attestation.reference} (${r.attestation.digest})`]]));
  const section = (title: string, p: PredicateResult, body: (x: Record<string, unknown>) => string[]) => {
    const by = r.layers.find((l) => l.digest === p.layer)?.verifiedBy;
    lines.push(
      `${title}: ${p.verified ? `verified (layer ${p.layer}${by ? `, key ${by}` : ''})` : 'NOT VERIFIED'}`,
    );
    if (p.verified && p.predicate) lines.push(...body(p.predicate));
  };
  section('promotion', r.promotion, promotionLines);
  // Earlier promotions of the same digest (kept in the `.att`), each verified on its own.
  const earlier = r.promotions.filter((p) => p.layer !== r.promotion.layer);
  if (earlier.length > 0) lines.push(`earlier promotions of this digest (${earlier.length}, oldest first):`);
  for (const p of earlier) {
    const pred = p.predicate ?? {};
    lines.push(
      `  ${clean(pred.kind === 'rollback' ? 'rollback' : 'promotion')} ${clean(pred.promotionId)} to ${clean(pred.environment)} at ${clean(pred.promotedAt)}: verified (layer ${p.layer})`,
    );
    for (const [k, v] of rollbackFields(pred)) if (k !== 'kind') lines.push(`    ${k}: ${v}`);
  }
  section('verification summary', r.verificationSummary, summaryLines);
  for (const n of r.notes) lines.push(`note: ${n}`);
  if (r.problems.length) {
    lines.push('problems:');
    for (const p of r.problems) lines.push(`  - ${clean(p)}`);
  }
  return lines;
}
