import { parseStatement, statementIsAbout } from './in-toto-statement';
import {
  type CompiledTrust,
  compileTrust,
  DIGEST,
  parseBundle,
  requiredSigners,
  sha256Hex,
  type TrustInput,
  verifyBundleSignature,
} from './signer-trust';
import {
  finding,
  SignatureForm,
  signatureVerdict,
  type SignatureVerification,
  type TrustFinding,
  TrustReason,
} from './trust-findings';

/** The predicate of cosign's signature statement (the DSSE form of `cosign sign` with bundles). */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

export interface BundleArtifact {
  /** The digest being promoted, `sha256:<hex>`. */
  digest: string;
  /**
   * The image manifest's bytes: needed for message-signature bundles, whose signature is over the
   * manifest itself (DSSE bundles sign a statement naming the digest and do not need it).
   */
  manifest?: Uint8Array;
}

export interface BundleOptions {
  /** Position of the bundle among those found (referrers), for findings. */
  index?: number;
}

/**
 * Verifies one Sigstore bundle (v0.1–v0.3) as a signature of the image: a message signature over
 * the manifest whose digest is the promoted one, or a DSSE envelope with cosign's signature
 * statement about that digest. Keyless bundles are verified against the trusted root and the
 * policy's identities, key-based ones (public-key hint) with the policy's keys. Offline: no TUF.
 * A bundle that cannot be read is an error here; `verifySigstoreBundles` lists it as a finding.
 */
export function verifySigstoreBundle(
  bundleJson: unknown,
  artifact: BundleArtifact,
  trustInput: TrustInput,
  options: BundleOptions = {},
): SignatureVerification {
  return verifyBundles([bundleJson], artifact, trustInput, options.index ?? 0, true);
}

/**
 * Verifies every bundle found for the image (referrers) and counts distinct trusted signers
 * against the policy's minimum. A malformed bundle is a finding that does not count.
 */
export function verifySigstoreBundles(
  bundles: unknown[],
  artifact: BundleArtifact,
  trustInput: TrustInput,
): SignatureVerification {
  return verifyBundles(bundles, artifact, trustInput, 0, false);
}

function verifyBundles(
  bundles: unknown[],
  artifact: BundleArtifact,
  trustInput: TrustInput,
  firstIndex: number,
  malformedIsError: boolean,
): SignatureVerification {
  const required = requiredSigners(trustInput);
  if (!DIGEST.test(artifact.digest))
    return signatureVerdict([], required, ['the artifact digest is not sha256:<hex>']);
  const compiled = compileTrust(trustInput);
  if (!compiled.ok) return signatureVerdict([], required, [compiled.error]);
  const findings: TrustFinding[] = [];
  const errors: string[] = [];
  bundles.forEach((json, i) => {
    const index = firstIndex + i;
    const r = bundleFinding(json, artifact, compiled.trust, index);
    if ('error' in r) errors.push(r.error);
    else findings.push(r);
    if (malformedIsError && 'reason' in r && r.reason === TrustReason.Malformed) {
      errors.push(`bundle #${index}: ${r.detail}`);
    }
  });
  return signatureVerdict(findings, required, errors, compiled.trust.ignored);
}

function bundleFinding(
  json: unknown,
  artifact: BundleArtifact,
  trust: CompiledTrust,
  index: number,
): TrustFinding | { error: string } {
  const digest = bundleDigest(json);
  const bundle = parseBundle(json);
  if (typeof bundle === 'string') return finding(index, digest, null, TrustReason.Malformed, bundle);
  const form =
    bundle.verificationMaterial.content.$case === 'publicKey'
      ? SignatureForm.BundleKey
      : SignatureForm.BundleKeyless;
  const at = (reason: TrustReason, detail: string, extra: Partial<TrustFinding> = {}): TrustFinding =>
    finding(index, digest, form, reason, detail, extra);

  let signed: Buffer | undefined;
  if (bundle.content.$case === 'messageSignature') {
    const message = bundle.content.messageSignature;
    const named = message.messageDigest ? Buffer.from(message.messageDigest.digest).toString('hex') : '';
    if (`sha256:${named}` !== artifact.digest) {
      return at(
        TrustReason.DigestMismatch,
        `the bundle signs sha256:${named.slice(0, 64)}, not ${artifact.digest}`,
      );
    }
    if (!artifact.manifest) return { error: 'a message-signature bundle needs the manifest bytes to verify' };
    signed = Buffer.from(artifact.manifest);
    if (`sha256:${sha256Hex(signed)}` !== artifact.digest) {
      return { error: 'the manifest bytes given do not hash to the artifact digest' };
    }
  }
  const {
    reason,
    detail,
    form: _form,
    ...who
  } = verifyBundleSignature(bundle, signed, trust, {
    key: SignatureForm.BundleKey,
    keyless: SignatureForm.BundleKeyless,
  });
  if (reason !== TrustReason.Verified) return at(reason, detail, who);

  if (bundle.content.$case === 'dsseEnvelope') {
    const envelope = bundle.content.dsseEnvelope;
    const statement = parseStatement(envelope.payloadType, envelope.payload);
    if (typeof statement === 'string') return at(TrustReason.WrongType, statement, who);
    if (statement.predicateType !== COSIGN_SIGN_PREDICATE) {
      return at(
        TrustReason.WrongType,
        `an attestation (${statement.predicateType.slice(0, 100)}), not a signature: verify it as an attestation`,
        who,
      );
    }
    if (!statementIsAbout(statement, artifact.digest)) {
      return at(TrustReason.DigestMismatch, `the signed statement is not about ${artifact.digest}`, who);
    }
  }
  return at(TrustReason.Verified, `${detail}; signs ${artifact.digest}`, who);
}

/** sha256 of the bundle as given (bytes, or the JSON text of an object), to name it in findings. */
export function bundleDigest(json: unknown): string | null {
  if (typeof json === 'string' || json instanceof Uint8Array) return `sha256:${sha256Hex(json)}`;
  try {
    const text = JSON.stringify(json) as string | undefined;
    return text === undefined ? null : `sha256:${sha256Hex(text)}`;
  } catch {
    return null;
  }
}
