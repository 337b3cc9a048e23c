import { type Bundle, bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import {
  PolicyError,
  toSignedEntity,
  toTrustMaterial,
  type TrustMaterial,
  VerificationError,
  Verifier,
} from '@sigstore/verify';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { type CertificateIdentity, type SignatureForm, TrustReason } from './trust-findings';
import {
  compileAnchoredPattern,
  isSignaturesSection,
  parseTrustedKey,
  publicKeyId,
  type SignaturesSection,
  TransparencyLogRequirement,
  type ValueMatcher,
} from '../domain/trust-policy';

/**
 * What signatures are verified against: the policy's `signatures` section and, for keyless
 * signatures, the trusted root an admin provides (`trusted_root.json`: Fulcio CAs, Rekor and CT
 * log keys, TSAs). Never fetched: Airlock verifies offline.
 */
export interface TrustInput {
  policy: SignaturesSection;
  trustedRoot?: unknown;
}

interface CompiledKey {
  name: string;
  key: KeyObject;
  keyId: string;
}

interface CompiledIdentity {
  issuer: string;
  label: string;
  subject: ValueMatcher;
}

interface RefusedIdentity {
  issuer: string;
  label: string;
  wouldMatch?: (subject: string) => boolean;
}

export interface CompiledTrust {
  keys: CompiledKey[];
  identities: CompiledIdentity[];
  /** Identities the policy names but that cannot be used (unanchored or invalid patterns). */
  refusedIdentities: RefusedIdentity[];
  tlogRequired: boolean;
  /** Trust material for certificates; null when the policy trusts no identities. */
  keyless: { material: TrustMaterial; ctlogThreshold: number } | null;
  /** Policy entries left out, for the summary. */
  ignored: string[];
}

export type CompiledTrustResult = { ok: true; trust: CompiledTrust } | { ok: false; error: string };

const TRUSTED_ROOT_MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.trustedroot(\.v\d+\.\d+)?\+json/;
const EMPTY_ROOT = TrustedRoot.fromJSON({});

export const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Distinct signers the policy needs (default 1). */
export const requiredSigners = (trust: TrustInput): number =>
  typeof trust.policy?.minimum === 'number' && trust.policy.minimum >= 1 ? trust.policy.minimum : 1;

export const sha256Hex = (data: Uint8Array | string): string =>
  createHash('sha256').update(data).digest('hex');

/** Builds what verification needs, or says why it cannot: fail closed, never a silent pass. */
export function compileTrust(input: TrustInput): CompiledTrustResult {
  const { policy } = input;
  if (!isSignaturesSection(policy)) {
    return { ok: false, error: 'the signer policy is invalid (keys or identities expected)' };
  }
  const ignored: string[] = [];
  const keys: CompiledKey[] = [];
  for (const k of policy.keys ?? []) {
    const parsed = parseTrustedKey(k.publicKey);
    if (typeof parsed === 'string') ignored.push(`key ${k.name}: ${parsed}`);
    else keys.push({ name: k.name, key: parsed, keyId: publicKeyId(parsed) });
  }
  const identities: CompiledIdentity[] = [];
  const refusedIdentities: RefusedIdentity[] = [];
  for (const id of policy.identities ?? []) {
    if (id.subject !== undefined) {
      const subject = id.subject;
      identities.push({
        issuer: id.issuer,
        label: `${subject} at ${id.issuer}`,
        subject: { source: subject, matches: (v) => v === subject },
      });
      continue;
    }
    const pattern = id.subjectRegExp ?? '';
    const label = `${pattern} at ${id.issuer}`;
    const compiled = compileAnchoredPattern(pattern);
    if (compiled.ok) {
      identities.push({ issuer: id.issuer, label, subject: compiled.matcher });
    } else {
      refusedIdentities.push({ issuer: id.issuer, label, wouldMatch: compiled.wouldMatchUnanchored });
      ignored.push(`identity ${label}: ${compiled.code}`);
    }
  }
  // Refused identities stay, so that a signature they would have let in is named as such.
  if (keys.length === 0 && identities.length === 0 && refusedIdentities.length === 0) {
    return { ok: false, error: 'no usable trusted key or identity in the policy' + detailOf(ignored) };
  }
  const tlogRequired = (policy.transparencyLog ?? TransparencyLogRequirement.Required) === 'required';
  let keyless: CompiledTrust['keyless'] = null;
  if (identities.length > 0 || refusedIdentities.length > 0) {
    const root = parseTrustedRoot(input.trustedRoot);
    if (typeof root === 'string') return { ok: false, error: root };
    if (root.certificateAuthorities.length === 0) {
      return { ok: false, error: 'the trusted root names no certificate authority' };
    }
    if (tlogRequired && root.tlogs.length === 0) {
      return { ok: false, error: 'the policy requires a transparency log but the trusted root names none' };
    }
    try {
      keyless = { material: toTrustMaterial(root), ctlogThreshold: root.ctlogs.length > 0 ? 1 : 0 };
    } catch {
      return { ok: false, error: 'the trusted root has unreadable keys or certificates' };
    }
  }
  return { ok: true, trust: { keys, identities, refusedIdentities, tlogRequired, keyless, ignored } };
}

const detailOf = (list: string[]): string => (list.length ? ` (${list.join('; ')})` : '');

function parseTrustedRoot(json: unknown): TrustedRoot | string {
  let value = json;
  if (typeof value === 'string' || value instanceof Uint8Array) {
    try {
      value = JSON.parse(Buffer.from(value).toString('utf8'));
    } catch {
      return 'the trusted root is not JSON';
    }
  }
  if (value === undefined || value === null) {
    return 'keyless identities need a trusted root, and none is configured';
  }
  if (
    typeof value !== 'object' ||
    typeof (value as { mediaType?: unknown }).mediaType !== 'string' ||
    !TRUSTED_ROOT_MEDIA_TYPE.test((value as { mediaType: string }).mediaType)
  ) {
    return 'the trusted root is not a Sigstore trusted_root.json';
  }
  try {
    return TrustedRoot.fromJSON(value);
  } catch {
    return 'the trusted root could not be read';
  }
}

/** The parsed bundle, or why it is not one. */
export function parseBundle(json: unknown): Bundle | string {
  let value = json;
  if (typeof value === 'string' || value instanceof Uint8Array) {
    try {
      value = JSON.parse(Buffer.from(value).toString('utf8'));
    } catch {
      return 'not JSON';
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  try {
    return bundleFromJSON(value);
  } catch (e) {
    return e instanceof Error ? `not a Sigstore bundle: ${e.message}` : 'not a Sigstore bundle';
  }
}

/** What verifying one signature said. `verified` says nothing yet about what was signed. */
export interface SignatureOutcome {
  reason: TrustReason;
  detail: string;
  form: SignatureForm;
  key?: string;
  identity?: CertificateIdentity;
  matchedIdentity?: string;
  transparencyLog?: boolean;
}

export interface SignatureForms {
  key: SignatureForm;
  keyless: SignatureForm;
}

/**
 * Verifies the signature in a bundle: with the policy's keys when it carries a public-key hint,
 * against the trusted root and the policy's identities when it carries a certificate. For a
 * message signature, `artifact` is the signed bytes. Statements and digests are the caller's job.
 */
export function verifyBundleSignature(
  bundle: Bundle,
  artifact: Buffer | undefined,
  trust: CompiledTrust,
  forms: SignatureForms,
): SignatureOutcome {
  const material = bundle.verificationMaterial.content;
  if (material.$case === 'publicKey')
    return verifyWithKeys(bundle, artifact, trust, forms.key, material.publicKey.hint);
  return verifyKeyless(bundle, artifact, trust, forms.keyless);
}

const KEY_THRESHOLDS = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 };

function verifyWithKeys(
  bundle: Bundle,
  artifact: Buffer | undefined,
  trust: CompiledTrust,
  form: SignatureForm,
  hint: string,
): SignatureOutcome {
  if (trust.keys.length === 0) {
    return { reason: TrustReason.WrongKey, form, detail: 'signed with a key, and the policy trusts no keys' };
  }
  let entity: ReturnType<typeof toSignedEntity>;
  try {
    // Key-based signatures are trusted on the key alone (see SignaturesSection.transparencyLog):
    // log entries and timestamps are neither needed nor checked.
    entity = { ...toSignedEntity(bundle, artifact), tlogEntries: [], timestamps: [] };
  } catch {
    return { reason: TrustReason.Malformed, form, detail: 'the signature could not be read' };
  }
  for (const k of trust.keys) {
    // The hint is chosen by whoever signed: it only names a key, each trusted key is tried.
    const material = toTrustMaterial(EMPTY_ROOT, () => ({ publicKey: k.key, validFor: () => true }));
    try {
      new Verifier(material, KEY_THRESHOLDS).verify(entity);
      return { reason: TrustReason.Verified, form, key: k.name, detail: `verified with key ${k.name}` };
    } catch (e) {
      if (!(e instanceof VerificationError && e.code === 'SIGNATURE_ERROR')) return outcomeOfError(e, form);
    }
  }
  const named = trust.keys.find((k) => hint !== '' && (k.name === hint || k.keyId === hint));
  return named
    ? {
        reason: TrustReason.TamperedPayload,
        form,
        detail: `claims key ${named.name}, which does not verify it: the signed content was changed`,
      }
    : { reason: TrustReason.WrongKey, form, detail: 'no trusted key verifies the signature' };
}

function verifyKeyless(
  bundle: Bundle,
  artifact: Buffer | undefined,
  trust: CompiledTrust,
  form: SignatureForm,
): SignatureOutcome {
  if (!trust.keyless) {
    return {
      reason: TrustReason.IdentityMismatch,
      form,
      detail: 'signed with a certificate, and the policy trusts no certificate identities',
    };
  }
  const tlogEntries = bundle.verificationMaterial.tlogEntries.length;
  const timestamps = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length ?? 0;
  if (trust.tlogRequired && tlogEntries === 0) {
    return {
      reason: TrustReason.TlogMissing,
      form,
      detail: 'no transparency-log entry, and the policy requires one',
    };
  }
  if (tlogEntries === 0 && timestamps === 0) {
    return {
      reason: TrustReason.TlogMissing,
      form,
      detail: 'no transparency-log entry or timestamp proves when the short-lived certificate signed',
    };
  }
  let signer: ReturnType<Verifier['verify']>;
  let entity: ReturnType<typeof toSignedEntity>;
  try {
    entity = toSignedEntity(bundle, artifact);
  } catch {
    return { reason: TrustReason.Malformed, form, detail: 'the signature or certificate could not be read' };
  }
  try {
    signer = new Verifier(trust.keyless.material, {
      tlogThreshold: trust.tlogRequired ? 1 : 0,
      ctlogThreshold: trust.keyless.ctlogThreshold,
      timestampThreshold: 1,
    }).verify(entity);
  } catch (e) {
    // The log is checked before the signature: changed content first shows as a log mismatch.
    if (e instanceof VerificationError && e.code.startsWith('TLOG') && !signatureMatchesCertificate(entity)) {
      return {
        reason: TrustReason.TamperedPayload,
        form,
        detail: 'the signature does not match the content',
      };
    }
    return outcomeOfError(e, form);
  }
  const identity: CertificateIdentity = {
    subject: signer.identity?.subjectAlternativeName ?? null,
    issuer: signer.identity?.extensions?.issuer ?? null,
  };
  const transparencyLog = tlogEntries > 0;
  const who = `${identity.subject ?? '(no SAN)'} at ${identity.issuer ?? '(no issuer)'}`;
  const match = trust.identities.find(
    (id) =>
      identity.issuer === id.issuer && identity.subject !== null && id.subject.matches(identity.subject),
  );
  if (match) {
    return {
      reason: TrustReason.Verified,
      form,
      identity,
      matchedIdentity: match.label,
      transparencyLog,
      detail: `verified for ${who}`,
    };
  }
  const unanchored = trust.refusedIdentities.find(
    (id) => identity.issuer === id.issuer && identity.subject !== null && id.wouldMatch?.(identity.subject),
  );
  if (unanchored) {
    return {
      reason: TrustReason.UnanchoredPattern,
      form,
      identity,
      transparencyLog,
      detail: `${who} matches only the unanchored pattern ${unanchored.label}, which is refused`,
    };
  }
  return {
    reason: TrustReason.IdentityMismatch,
    form,
    identity,
    transparencyLog,
    detail: `${who} is not a trusted identity`,
  };
}

function signatureMatchesCertificate(entity: ReturnType<typeof toSignedEntity>): boolean {
  if (entity.key.$case !== 'certificate') return false;
  try {
    return entity.signature.verifySignature(
      createPublicKey({ key: entity.key.certificate.publicKey, format: 'der', type: 'spki' }),
    );
  } catch {
    return false;
  }
}

/** Maps @sigstore/verify errors to reasons. Their messages carry no secrets; others are not shown. */
function outcomeOfError(e: unknown, form: SignatureForm): SignatureOutcome {
  if (e instanceof PolicyError) return { reason: TrustReason.IdentityMismatch, form, detail: e.message };
  if (!(e instanceof VerificationError)) {
    return { reason: TrustReason.Malformed, form, detail: 'the signature material could not be read' };
  }
  const detail = e.message.slice(0, 200);
  switch (e.code) {
    case 'SIGNATURE_ERROR':
      return {
        reason: TrustReason.TamperedPayload,
        form,
        detail: `the signature does not match the content: ${detail}`,
      };
    case 'CERTIFICATE_ERROR':
      return { reason: TrustReason.UntrustedCa, form, detail: `certificate not trusted: ${detail}` };
    case 'PUBLIC_KEY_ERROR':
      return { reason: TrustReason.WrongKey, form, detail };
    case 'TLOG_ERROR':
      return /^expected \d+ tlog entries/.test(e.message)
        ? { reason: TrustReason.TlogMissing, form, detail }
        : { reason: TrustReason.TlogInvalid, form, detail };
    case 'TIMESTAMP_ERROR':
      return /^expected \d+ timestamps, got 0/.test(e.message)
        ? { reason: TrustReason.TlogMissing, form, detail: `no verifiable timestamp: ${detail}` }
        : { reason: TrustReason.TlogInvalid, form, detail: `timestamp: ${detail}` };
    case 'TLOG_INCLUSION_PROOF_ERROR':
    case 'TLOG_INCLUSION_PROMISE_ERROR':
    case 'TLOG_MISSING_INCLUSION_ERROR':
    case 'TLOG_BODY_ERROR':
      return { reason: TrustReason.TlogInvalid, form, detail: `transparency log: ${detail}` };
    case 'NOT_IMPLEMENTED_ERROR':
      return { reason: TrustReason.Unsupported, form, detail };
  }
}

/**
 * A cosign signature or attestation layer with keyless annotations, as a v0.1 bundle: the
 * certificate (and chain), the Rekor bundle annotation as a log entry with its SET, and an RFC 3161
 * timestamp annotation when present. Intermediates in the chain are not trusted by being there:
 * the trusted root must hold the CA chain.
 */
export function bundleFromCosignAnnotations(
  content: { messageSignature: { digest: Buffer; signature: string } } | { dsseEnvelope: object },
  annotations: Record<string, string>,
): Bundle | string {
  const certificates = pemCertificates(annotations[COSIGN_CERTIFICATE] ?? '');
  if (certificates.length !== 1) return 'the certificate annotation is not one PEM certificate';
  const chain = pemCertificates(annotations[COSIGN_CHAIN] ?? '');
  const tlogEntries: object[] = [];
  const rekor = annotations[COSIGN_BUNDLE];
  if (rekor !== undefined) {
    const entry = rekorBundleEntry(rekor);
    if (typeof entry === 'string') return entry;
    tlogEntries.push(entry);
  }
  const rfc3161Timestamps: object[] = [];
  const ts = annotations[COSIGN_RFC3161];
  if (ts !== undefined) {
    const signed = jsonObject(ts)?.SignedRFC3161Timestamp;
    if (typeof signed !== 'string') return 'the timestamp annotation is malformed';
    rfc3161Timestamps.push({ signedTimestamp: signed });
  }
  const serialized = {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      x509CertificateChain: { certificates: [...certificates, ...chain].map((c) => ({ rawBytes: c })) },
      tlogEntries,
      timestampVerificationData: { rfc3161Timestamps },
    },
    ...('messageSignature' in content
      ? {
          messageSignature: {
            messageDigest: {
              algorithm: 'SHA2_256',
              digest: content.messageSignature.digest.toString('base64'),
            },
            signature: content.messageSignature.signature,
          },
        }
      : { dsseEnvelope: content.dsseEnvelope }),
  };
  return parseBundle(serialized);
}

export const COSIGN_SIGNATURE = 'dev.cosignproject.cosign/signature';
export const COSIGN_CERTIFICATE = 'dev.sigstore.cosign/certificate';
export const COSIGN_CHAIN = 'dev.sigstore.cosign/chain';
export const COSIGN_BUNDLE = 'dev.sigstore.cosign/bundle';
export const COSIGN_RFC3161 = 'dev.sigstore.cosign/rfc3161timestamp';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g;

/** Base64 DER of each PEM certificate in the text. */
function pemCertificates(text: string): string[] {
  return [...text.matchAll(PEM_CERTIFICATE)].map((m) => m[1].replace(/\s+/g, ''));
}

function jsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** cosign's Rekor bundle annotation: `{SignedEntryTimestamp, Payload: {body, integratedTime, logIndex, logID}}`. */
function rekorBundleEntry(annotation: string): object | string {
  const rekor = jsonObject(annotation);
  const payload = rekor?.Payload as Record<string, unknown> | undefined;
  const set = rekor?.SignedEntryTimestamp;
  if (
    typeof set !== 'string' ||
    typeof payload !== 'object' ||
    payload === null ||
    typeof payload.body !== 'string' ||
    typeof payload.integratedTime !== 'number' ||
    typeof payload.logIndex !== 'number' ||
    typeof payload.logID !== 'string' ||
    !/^[0-9a-f]{64}$/.test(payload.logID)
  ) {
    return 'the Rekor bundle annotation is malformed';
  }
  const body = jsonObject(Buffer.from(payload.body, 'base64').toString('utf8'));
  if (typeof body?.kind !== 'string' || typeof body.apiVersion !== 'string') {
    return 'the Rekor bundle annotation has no entry kind';
  }
  return {
    logIndex: String(payload.logIndex),
    logId: { keyId: Buffer.from(payload.logID, 'hex').toString('base64') },
    kindVersion: { kind: body.kind, version: body.apiVersion },
    integratedTime: String(payload.integratedTime),
    inclusionPromise: { signedEntryTimestamp: set },
    canonicalizedBody: payload.body,
  };
}
