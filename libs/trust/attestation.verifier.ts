import { type Bundle } from '@sigstore/bundle';
import { CheckStatus } from '../domain';
import { type InTotoStatement, parseStatement, statementIsAbout } from './in-toto-statement';
import {
  bundleFromCosignAnnotations,
  COSIGN_CERTIFICATE,
  type CompiledTrust,
  compileTrust,
  DIGEST,
  parseBundle,
  type TrustInput,
  verifyBundleSignature,
} from './signer-trust';
import { bundleDigest } from './sigstore-bundle.verifier';
import { finding, SignatureForm, type TrustFinding, TrustReason } from './trust-findings';
import {
  type AttestationsSection,
  compileValue,
  isAttestationsSection,
  type SbomFormat,
  type ValueMatcher,
} from '../domain/trust-policy';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2';
const SPDX = /^https:\/\/spdx\.dev\/Document(\/v\d+(\.\d+)*)?$/;
const CYCLONEDX = /^https:\/\/cyclonedx\.org\/bom(\/v\d+(\.\d+)*)?$/;

/**
 * An attestation as found: a Sigstore bundle holding a DSSE envelope (referrers), or a bare DSSE
 * envelope (a cosign `.att` layer) with that layer's annotations, which make it keyless when
 * they hold a certificate.
 */
export type AttestationInput =
  { bundle: unknown } | { envelope: unknown; annotations?: Record<string, string> };

/** The CI token's claims about the build that asked for the promotion. */
export interface CiClaims {
  repository?: string;
  ref?: string;
  sha?: string;
}

export interface AttestationContext {
  /** The digest being promoted, `sha256:<hex>`. */
  digest: string;
  /** Who may sign attestations: keys and identities, as for signatures. */
  trust: TrustInput;
  policy: AttestationsSection;
  ciClaims?: CiClaims;
}

/** What a verified SLSA provenance says, as far as the policy looks. */
export interface ProvenanceFacts {
  slsaVersion: 'v1' | 'v0.2';
  builderId: string | null;
  /** Normalised: no `git+`, no `.git`, e.g. `https://github.com/org/app`. */
  sourceRepository: string | null;
  sourceRef: string | null;
  sourceCommit: string | null;
}

export type AttestationKind = 'provenance' | 'sbom' | 'other';

export interface AttestationFinding extends TrustFinding {
  /** The signature verified with a trusted signer (the content may still be refused). */
  signatureVerified: boolean;
  /** The statement is about the promoted digest. */
  aboutArtifact: boolean;
  predicateType: string | null;
  kind: AttestationKind | null;
  provenance?: ProvenanceFacts;
  sbomFormat?: SbomFormat;
}

export interface AttestationVerification {
  status: CheckStatus;
  findings: AttestationFinding[];
  errors: string[];
  summary: string;
  /** The SBOMs of counted attestations (verified, about the digest, in an accepted format). */
  sboms: VerifiedSbom[];
}

export interface VerifiedSbom {
  /** The attestation's index among the findings. */
  index: number;
  format: SbomFormat;
  /** The SBOM document itself (the statement's predicate). */
  document: Record<string, unknown>;
}

export interface AttestationOptions {
  index?: number;
}

/**
 * Verifies one attestation: its DSSE signature (PAE) against the trusted keys or identities,
 * then that its statement is about the promoted digest, then its predicate against the policy:
 * SLSA provenance (builder, source repository and ref, commit equal to the CI claims' sha) or an
 * SBOM (SPDX, CycloneDX). Combine several with `attestationVerdict` over their findings.
 */
export function verifyAttestation(
  input: AttestationInput,
  context: AttestationContext,
  options: AttestationOptions = {},
): AttestationVerification {
  return verifyAll([input], context, options.index ?? 0, true);
}

/**
 * Verifies every attestation found and gives the check's result. An attestation that cannot be
 * read is a finding that does not count (here), an error (in `verifyAttestation`).
 */
export function verifyAttestations(
  inputs: AttestationInput[],
  context: AttestationContext,
): AttestationVerification {
  return verifyAll(inputs, context, 0, false);
}

function verifyAll(
  inputs: AttestationInput[],
  context: AttestationContext,
  firstIndex: number,
  malformedIsError: boolean,
): AttestationVerification {
  const errors = contextErrors(context);
  if (errors.length) return { ...attestationVerdict([], context.policy, errors), sboms: [] };
  const compiled = compileTrust(context.trust);
  if (!compiled.ok) return { ...attestationVerdict([], context.policy, [compiled.error]), sboms: [] };
  const sboms: VerifiedSbom[] = [];
  const findings = inputs.map((input, i) =>
    attestationFinding(input, context, compiled.trust, firstIndex + i, (sbom) => sboms.push(sbom)),
  );
  if (malformedIsError) {
    errors.push(
      ...findings
        .filter((f) => f.reason === TrustReason.Malformed && !f.signatureVerified)
        .map((f) => `attestation #${f.index}: ${f.detail}`),
    );
  }
  return { ...attestationVerdict(findings, context.policy, errors), sboms };
}

function attestationFinding(
  input: AttestationInput,
  context: AttestationContext,
  trust: CompiledTrust,
  index: number,
  onSbom: (sbom: VerifiedSbom) => void,
): AttestationFinding {
  const source = 'bundle' in input ? input.bundle : input.envelope;
  const at = (
    reason: TrustReason,
    detail: string,
    extra: Partial<AttestationFinding> = {},
  ): AttestationFinding => ({
    ...finding(index, bundleDigest(source), null, reason, detail),
    signatureVerified: false,
    aboutArtifact: false,
    predicateType: null,
    kind: null,
    ...extra,
  });

  const bundles =
    'bundle' in input ? bundleOf(input.bundle) : bundlesOfEnvelope(input.envelope, input.annotations ?? {});
  if (typeof bundles === 'string') return at(TrustReason.Malformed, bundles);
  const forms =
    'bundle' in input
      ? { key: SignatureForm.BundleKey, keyless: SignatureForm.BundleKeyless }
      : { key: SignatureForm.DsseKey, keyless: SignatureForm.DsseKeyless };
  const form = bundles[0].verificationMaterial.content.$case === 'publicKey' ? forms.key : forms.keyless;

  // A bare envelope may carry several signatures: the first that verifies speaks for it; if none
  // does, the most telling reason (not just "wrong key") is kept.
  let outcome = verifyBundleSignature(bundles[0], undefined, trust, forms);
  for (const b of bundles.slice(1)) {
    if (outcome.reason === TrustReason.Verified) break;
    const next = verifyBundleSignature(b, undefined, trust, forms);
    if (next.reason === TrustReason.Verified || outcome.reason === TrustReason.WrongKey) outcome = next;
  }
  const { reason, detail, form: _form, ...who } = outcome;
  if (reason !== TrustReason.Verified) return at(reason, detail, { ...who, form });

  const envelope = bundles[0].content.$case === 'dsseEnvelope' ? bundles[0].content.dsseEnvelope : null;
  const verified = { ...who, form, signatureVerified: true };
  if (!envelope) return at(TrustReason.WrongType, 'a message signature, not an attestation', verified);
  const statement = parseStatement(envelope.payloadType, envelope.payload);
  if (typeof statement === 'string') return at(TrustReason.Malformed, statement, verified);
  const kind = kindOf(statement.predicateType);
  const described = { ...verified, predicateType: statement.predicateType, kind };
  if (!statementIsAbout(statement, context.digest)) {
    const named = statement.subjects
      .map((s) => (s.sha256 ? `sha256:${s.sha256.slice(0, 12)}…` : '?'))
      .join(', ');
    return at(
      TrustReason.SubjectMismatch,
      `the statement is about ${named}, not ${context.digest}`,
      described,
    );
  }
  const checked = checkPredicate(statement, kind, context);
  const result = at(checked.reason, `${detail}; ${checked.detail}`, {
    ...described,
    aboutArtifact: true,
    ...checked.extra,
  });
  // The document is handed on, not kept in the finding: findings are stored, SBOMs can be large.
  if (result.counted && kind === 'sbom' && result.sbomFormat)
    onSbom({ index, format: result.sbomFormat, document: statement.predicate });
  return result;
}

function contextErrors(context: AttestationContext): string[] {
  const errors: string[] = [];
  if (!DIGEST.test(context.digest)) errors.push('the artifact digest is not sha256:<hex>');
  if (!isAttestationsSection(context.policy)) errors.push('the attestations policy is invalid');
  return errors;
}

function bundleOf(json: unknown): Bundle[] | string {
  const bundle = parseBundle(json);
  if (typeof bundle === 'string') return bundle;
  if (bundle.content.$case !== 'dsseEnvelope')
    return 'the bundle holds a message signature, not an attestation';
  return [bundle];
}

const MAX_ENVELOPE_SIGNATURES = 10;

/** One single-signature bundle per signature of a bare DSSE envelope. */
function bundlesOfEnvelope(json: unknown, annotations: Record<string, string>): Bundle[] | string {
  let value = json;
  if (typeof value === 'string' || value instanceof Uint8Array) {
    try {
      value = JSON.parse(Buffer.from(value).toString('utf8'));
    } catch {
      return 'the envelope is not JSON';
    }
  }
  const env = value as { payload?: unknown; payloadType?: unknown; signatures?: unknown } | null;
  if (
    typeof env !== 'object' ||
    env === null ||
    typeof env.payload !== 'string' ||
    typeof env.payloadType !== 'string' ||
    !Array.isArray(env.signatures) ||
    env.signatures.length === 0 ||
    env.signatures.length > MAX_ENVELOPE_SIGNATURES
  ) {
    return 'not a DSSE envelope (payload, payloadType, 1–10 signatures)';
  }
  const keyless = annotations[COSIGN_CERTIFICATE] !== undefined;
  if (keyless && env.signatures.length !== 1) return 'a keyless envelope must carry exactly one signature';
  const bundles: Bundle[] = [];
  for (const s of env.signatures as unknown[]) {
    const sig = s as { sig?: unknown; keyid?: unknown } | null;
    if (typeof sig?.sig !== 'string' || sig.sig.length === 0) return 'an envelope signature has no sig';
    const keyid = typeof sig.keyid === 'string' ? sig.keyid : '';
    const dsseEnvelope = {
      payload: env.payload,
      payloadType: env.payloadType,
      signatures: [{ sig: sig.sig, keyid }],
    };
    const bundle = keyless
      ? bundleFromCosignAnnotations({ dsseEnvelope }, annotations)
      : parseBundle({
          mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
          verificationMaterial: { publicKey: { hint: keyid }, tlogEntries: [] },
          dsseEnvelope,
        });
    if (typeof bundle === 'string') return bundle;
    bundles.push(bundle);
  }
  return bundles;
}

function kindOf(predicateType: string): AttestationKind {
  if (predicateType === SLSA_PROVENANCE_V1 || predicateType === SLSA_PROVENANCE_V02) return 'provenance';
  if (SPDX.test(predicateType) || CYCLONEDX.test(predicateType)) return 'sbom';
  return 'other';
}

interface PredicateCheck {
  reason: TrustReason;
  detail: string;
  extra: Partial<AttestationFinding>;
}

function checkPredicate(
  statement: InTotoStatement,
  kind: AttestationKind,
  context: AttestationContext,
): PredicateCheck {
  switch (kind) {
    case 'provenance':
      return checkProvenance(statement, context);
    case 'sbom':
      return checkSbom(statement, context.policy);
    case 'other':
      return {
        reason: TrustReason.WrongType,
        detail: `predicate ${statement.predicateType.slice(0, 100)} is not one the policy checks`,
        extra: {},
      };
  }
}

function checkSbom(statement: InTotoStatement, policy: AttestationsSection): PredicateCheck {
  const format: SbomFormat = SPDX.test(statement.predicateType) ? 'spdx' : 'cyclonedx';
  if (Object.keys(statement.predicate).length === 0) {
    return {
      reason: TrustReason.Malformed,
      detail: `the ${format} SBOM is empty`,
      extra: { sbomFormat: format },
    };
  }
  const formats = policy.sbom?.formats;
  if (formats && !formats.includes(format)) {
    return {
      reason: TrustReason.FormatNotAllowed,
      detail: `${format} SBOM; the policy accepts ${formats.join(', ')}`,
      extra: { sbomFormat: format },
    };
  }
  return { reason: TrustReason.Verified, detail: `${format} SBOM`, extra: { sbomFormat: format } };
}

function matchers(values: string[] | undefined): ValueMatcher[] | null {
  if (!values) return null;
  // A value that does not compile (unanchored, invalid) matches nothing: fail closed.
  return values.map((v) => {
    const c = compileValue(v);
    return c.ok ? c.matcher : { source: v, matches: () => false };
  });
}

function checkProvenance(statement: InTotoStatement, context: AttestationContext): PredicateCheck {
  const facts = provenanceFacts(statement);
  const extra = { provenance: facts };
  const policy = context.policy.provenance;
  const problems: Array<[TrustReason, string]> = [];

  const builders = matchers(policy?.builderIds);
  if (builders && !(facts.builderId !== null && builders.some((m) => m.matches(facts.builderId ?? '')))) {
    problems.push([TrustReason.UntrustedBuilder, `builder ${facts.builderId ?? '(none)'} is not trusted`]);
  }
  const repositories = matchers(policy?.sourceRepositories);
  if (
    repositories &&
    !(facts.sourceRepository !== null && repositories.some((m) => m.matches(facts.sourceRepository ?? '')))
  ) {
    problems.push([
      TrustReason.SourceMismatch,
      `source repository ${facts.sourceRepository ?? '(none)'} is not allowed`,
    ]);
  }
  const refs = matchers(policy?.sourceRefs);
  if (refs && !(facts.sourceRef !== null && refs.some((m) => m.matches(facts.sourceRef ?? '')))) {
    problems.push([TrustReason.SourceMismatch, `source ref ${facts.sourceRef ?? '(none)'} is not allowed`]);
  }
  const claimed = context.ciClaims?.sha?.toLowerCase();
  if (claimed && facts.sourceCommit && claimed !== facts.sourceCommit.toLowerCase()) {
    problems.push([
      TrustReason.CommitMismatch,
      `built from commit ${facts.sourceCommit.slice(0, 40)}, the CI token claims ${claimed.slice(0, 40)}`,
    ]);
  }
  if (problems.length) {
    return { reason: problems[0][0], detail: problems.map(([, d]) => d).join('; '), extra };
  }
  return {
    reason: TrustReason.Verified,
    detail: `SLSA provenance ${facts.slsaVersion} by ${facts.builderId ?? '(no builder)'} from ${facts.sourceRepository ?? '(no source)'}${facts.sourceRef ? `@${facts.sourceRef}` : ''}`,
    extra,
  };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** `git+https://host/org/app.git@refs/heads/main` → repository and ref. */
export function parseSourceUri(uri: string): { repository: string; ref: string | null } {
  let rest = uri.startsWith('git+') ? uri.slice(4) : uri;
  let ref: string | null = null;
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    ref = rest.slice(hash + 1) || null;
    rest = rest.slice(0, hash);
  }
  const scheme = rest.indexOf('://');
  const pathStart = rest.indexOf('/', scheme >= 0 ? scheme + 3 : 0);
  const at = rest.lastIndexOf('@');
  if (at > pathStart && pathStart >= 0) {
    ref = rest.slice(at + 1) || ref;
    rest = rest.slice(0, at);
  }
  return { repository: normalizeRepository(rest), ref };
}

export function normalizeRepository(uri: string): string {
  let r = uri.startsWith('git+') ? uri.slice(4) : uri;
  while (r.endsWith('/')) r = r.slice(0, -1);
  if (r.endsWith('.git')) r = r.slice(0, -4);
  return r;
}

const commitOf = (digest: unknown): string | null => str(obj(digest).gitCommit) ?? str(obj(digest).sha1);

/**
 * Reads builder, source and commit from SLSA provenance v1 (GitHub Actions' `workflow` parameters,
 * a `source` parameter, BuildKit's `configSource`, or the first git `resolvedDependencies` entry)
 * and, minimally, v0.2 (`builder.id`, `invocation.configSource`).
 */
export function provenanceFacts(statement: InTotoStatement): ProvenanceFacts {
  const p = statement.predicate;
  if (statement.predicateType === SLSA_PROVENANCE_V02) {
    const config = obj(obj(p.invocation).configSource);
    const uri = str(config.uri);
    const parsed = uri ? parseSourceUri(uri) : null;
    return {
      slsaVersion: 'v0.2',
      builderId: str(obj(p.builder).id),
      sourceRepository: parsed?.repository ?? null,
      sourceRef: parsed?.ref ?? null,
      sourceCommit: commitOf(config.digest),
    };
  }
  const definition = obj(p.buildDefinition);
  const external = obj(definition.externalParameters);
  const dependencies = Array.isArray(definition.resolvedDependencies)
    ? (definition.resolvedDependencies as unknown[]).map(obj)
    : [];
  const gitDependencies = dependencies
    .filter((d) => str(d.uri)?.startsWith('git+'))
    .map((d) => ({ ...parseSourceUri(str(d.uri) ?? ''), commit: commitOf(d.digest) }));

  let repository: string | null = null;
  let ref: string | null = null;
  let commit: string | null = null;
  const workflow = obj(external.workflow);
  const configSource = obj(external.configSource);
  if (str(workflow.repository)) {
    repository = normalizeRepository(str(workflow.repository) ?? '');
    ref = str(workflow.ref);
  } else if (str(external.source)) {
    ({ repository, ref } = parseSourceUri(str(external.source) ?? ''));
  } else if (str(configSource.uri)) {
    ({ repository, ref } = parseSourceUri(str(configSource.uri) ?? ''));
    commit = commitOf(configSource.digest);
  } else if (gitDependencies.length > 0) {
    ({ repository, ref } = gitDependencies[0]);
  }
  const dependency = gitDependencies.find((d) => d.repository === repository);
  commit = commit ?? dependency?.commit ?? null;
  ref = ref ?? dependency?.ref ?? null;
  return {
    slsaVersion: 'v1',
    builderId: str(obj(obj(p.runDetails).builder).id),
    sourceRepository: repository,
    sourceRef: ref,
    sourceCommit: commit,
  };
}

const CONTENT_REFUSALS = new Set([
  TrustReason.UntrustedBuilder,
  TrustReason.SourceMismatch,
  TrustReason.CommitMismatch,
]);

/**
 * The attestation check's result over every attestation found. Required provenance or SBOM needs
 * one verified attestation about the digest that passes the policy. A trusted provenance that
 * contradicts the policy (another builder, source or commit) fails the check even next to a good
 * one. Attestations whose signature does not verify are listed and ignored.
 */
export function attestationVerdict(
  findings: AttestationFinding[],
  policy: AttestationsSection,
  errors: string[] = [],
): Omit<AttestationVerification, 'sboms'> {
  if (errors.length > 0) return { status: CheckStatus.Error, findings, errors, summary: errors.join('; ') };
  const blocking: string[] = [];
  const provenance = findings.filter(
    (f) => f.kind === 'provenance' && f.aboutArtifact && f.signatureVerified,
  );
  const conflicting = provenance.filter((f) => CONTENT_REFUSALS.has(f.reason));
  if (conflicting.length) {
    blocking.push(
      `trusted provenance refused: ${conflicting.map((f) => `#${f.index} ${f.reason} (${f.detail})`).join(', ')}`,
    );
  }
  if (policy.provenance?.required && !provenance.some((f) => f.counted)) {
    blocking.push('no verified SLSA provenance for this digest');
  }
  if (policy.sbom?.required && !findings.some((f) => f.kind === 'sbom' && f.counted)) {
    blocking.push(
      `no verified SBOM${policy.sbom.formats ? ` (${policy.sbom.formats.join(' or ')})` : ''} for this digest`,
    );
  }
  const counted = findings.filter((f) => f.counted);
  const ignored = findings.filter((f) => !f.counted && !CONTENT_REFUSALS.has(f.reason));
  const parts = [
    `${counted.length} verified attestation(s)${counted.length ? ` (${counted.map((f) => f.predicateType).join(', ')})` : ''}`,
    ...blocking,
  ];
  if (ignored.length) parts.push(`not counted: ${ignored.map((f) => `#${f.index} ${f.reason}`).join(', ')}`);
  return {
    status: blocking.length ? CheckStatus.Fail : CheckStatus.Pass,
    findings,
    errors,
    summary: parts.join('; '),
  };
}
