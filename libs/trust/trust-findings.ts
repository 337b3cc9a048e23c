import { CheckStatus } from '../domain';

/** Why a signature or attestation did or did not count. Stable codes: findings and tests rely on them. */
export enum TrustReason {
  Verified = 'verified',
  /** No trusted key verifies the signature (signed with another key). */
  WrongKey = 'wrong_key',
  /** The signed bytes were changed: the signature no longer matches what it claims to sign. */
  TamperedPayload = 'tampered_payload',
  /** The signature is valid but names another image digest (or was copied from another image). */
  DigestMismatch = 'digest_mismatch',
  /** The signing certificate does not chain to a CA in the trusted root (or is invalid there). */
  UntrustedCa = 'untrusted_ca',
  /** The certificate identity (SAN, issuer) matches no identity of the policy. */
  IdentityMismatch = 'identity_mismatch',
  /** The identity would match only through a policy pattern that is not anchored: refused. */
  UnanchoredPattern = 'unanchored_pattern',
  /** No transparency-log entry (or timestamp) where the policy needs one. */
  TlogMissing = 'tlog_missing',
  /** A transparency-log entry or timestamp is present but does not verify. */
  TlogInvalid = 'tlog_invalid',
  /** The attestation is about another artifact. */
  SubjectMismatch = 'subject_mismatch',
  UntrustedBuilder = 'untrusted_builder',
  /** The provenance names another source repository or ref than the policy allows. */
  SourceMismatch = 'source_mismatch',
  /** The provenance's source commit differs from the commit the CI token claims. */
  CommitMismatch = 'commit_mismatch',
  /** The SBOM is in a format the policy does not accept. */
  FormatNotAllowed = 'format_not_allowed',
  /** Verified, but not the kind of thing asked for (an attestation offered as a signature...). */
  WrongType = 'wrong_type',
  /** A form Airlock does not verify: never counts. */
  Unsupported = 'unsupported',
  Malformed = 'malformed',
  /** Nothing to verify against: no keys, no identities, or no trusted root for certificates. */
  NoTrustMaterial = 'no_trust_material',
}

export enum SignatureForm {
  /** A layer of a cosign `sha256-<hex>.sig` manifest, verified with a trusted key. */
  CosignKey = 'cosign_key',
  /** A layer of a cosign `.sig` manifest with certificate and Rekor bundle annotations. */
  CosignKeyless = 'cosign_keyless',
  BundleKey = 'bundle_key',
  BundleKeyless = 'bundle_keyless',
  /** A bare DSSE envelope signature (an in-toto attestation), with a trusted key. */
  DsseKey = 'dsse_key',
  /** A bare DSSE envelope signature with cosign certificate annotations. */
  DsseKeyless = 'dsse_keyless',
}

/** The certificate identity of a keyless signer, as read from its verified certificate. */
export interface CertificateIdentity {
  issuer: string | null;
  subject: string | null;
}

/** One signature or attestation looked at, and why it did or did not count. */
export interface TrustFinding {
  /** Position in the input: layer index of a `.sig` manifest, signature index of an envelope. */
  index: number;
  /** sha256 of the bytes looked at: the layer, the bundle or the envelope (`sha256:<hex>`). */
  digest: string | null;
  form: SignatureForm | null;
  counted: boolean;
  reason: TrustReason;
  /** One sentence for people: what was found and why it counts or not. Never contains secrets. */
  detail: string;
  /** The policy key that verified it. */
  key?: string;
  /** The signer's certificate identity (keyless). */
  identity?: CertificateIdentity;
  /** The policy identity that matched: `subject` or `subjectRegExp` at `issuer`. */
  matchedIdentity?: string;
  /** Whether a transparency-log entry was verified for it. */
  transparencyLog?: boolean;
}

/** The outcome of verifying a set of signatures. `error`: could not verify; never a pass. */
export interface SignatureVerification {
  status: CheckStatus;
  /** Distinct signers (keys, certificate identities) that verified. */
  signers: string[];
  required: number;
  findings: TrustFinding[];
  /** Why it could not verify (status `error`): malformed input, missing trust material, fetch failures. */
  errors: string[];
  /** Policy entries that could not be used (an unanchored pattern, an unreadable key). */
  ignored?: string[];
  summary: string;
}

export const finding = (
  index: number,
  digest: string | null,
  form: SignatureForm | null,
  reason: TrustReason,
  detail: string,
  extra: Partial<TrustFinding> = {},
): TrustFinding => ({
  index,
  digest,
  form,
  counted: reason === TrustReason.Verified,
  reason,
  detail,
  ...extra,
});

/** Names the signer of a counted finding so that one signer is counted once. */
function signerOf(f: TrustFinding): string | null {
  if (!f.counted) return null;
  if (f.key) return `key:${f.key}`;
  if (f.identity) return `identity:${f.identity.subject ?? ''}@${f.identity.issuer ?? ''}`;
  return null;
}

/**
 * Turns findings (from one or more verifiers: `.sig` layers, referrer bundles) into the check's
 * result. Distinct signers are counted, so the same key signing twice counts once. An error
 * (`errors` non-empty: malformed input, missing trust material) is never a pass.
 */
export function signatureVerdict(
  findings: TrustFinding[],
  required: number,
  errors: string[] = [],
  ignored: string[] = [],
): SignatureVerification {
  const signers = [...new Set(findings.map(signerOf).filter((s): s is string => s !== null))];
  const extra = ignored.length ? { ignored } : {};
  if (errors.length > 0) {
    return {
      status: CheckStatus.Error,
      signers,
      required,
      findings,
      errors,
      ...extra,
      summary: errors.join('; '),
    };
  }
  const pass = signers.length >= required;
  const refused = findings.filter((f) => !f.counted);
  const why = refused.length
    ? `; not counted: ${refused.map((f) => `#${f.index} ${f.reason} (${f.detail})`).join(', ')}`
    : '';
  const summary =
    findings.length === 0
      ? `no signatures found; ${required} trusted signer(s) required`
      : `${signers.length} of ${required} required trusted signer(s) verified` +
        (signers.length ? ` (${signers.join(', ')})` : '') +
        why +
        (ignored.length ? `; policy entries ignored: ${ignored.join(', ')}` : '');
  const status = pass ? CheckStatus.Pass : CheckStatus.Fail;
  return { status, signers, required, findings, errors, ...extra, summary };
}
