import Ajv, { type ErrorObject } from 'ajv';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { RE2JS } from 're2js';

// The trust sections of a policy (signatures, attestations): their types, schema fragments (the
// policy schema includes them) and the checks made when a policy version is saved.

/** A public key an admin trusts to sign images: cosign key pairs, skopeo, Airlock's own. */
export interface TrustedKey {
  /** Names the key in findings and audit (`release`, `ci-2025`). Unique within the section. */
  name: string;
  /** PEM SPKI (`-----BEGIN PUBLIC KEY-----`), ECDSA P-256: the form cosign and skopeo use. */
  publicKey: string;
}

/**
 * A keyless signer: the identity in a Fulcio-style certificate. The issuer is the certificate's
 * OIDC issuer extension, compared exactly; the subject is its SAN (a workflow URI or an email),
 * given exactly (`subject`) or as an anchored RE2 pattern (`subjectRegExp`, `^…$`, matched against
 * the whole SAN). An issuer alone is refused: anyone with an account there could sign.
 */
export interface TrustedIdentity {
  issuer: string;
  subject?: string;
  subjectRegExp?: string;
}

export enum TransparencyLogRequirement {
  /** A certificate-based signature counts only with a verified log entry. */
  Required = 'required',
  /** A log entry is verified when present; a trusted timestamp may stand in for it. */
  Optional = 'optional',
}

/**
 * The `signatures` section of a policy: which signers count and how many distinct ones the image
 * needs. Keys and identities are alternatives: a signature counts when any of them verifies it.
 */
export interface SignaturesSection {
  keys?: TrustedKey[];
  identities?: TrustedIdentity[];
  /** Distinct signers (keys or certificate identities) needed. Default 1. */
  minimum?: number;
  /**
   * Applies to certificate-based (keyless) signatures, whose short-lived certificate is only
   * trustworthy with proof of when it signed. Key-based signatures are trusted on the key alone
   * (skopeo and containers/image do not log them). Default `required`.
   */
  transparencyLog?: `${TransparencyLogRequirement}`;
  /**
   * Sigstore trust material for keyless signatures (a `trusted_root.json`: Fulcio CAs, Rekor and
   * CT log keys, TSAs). Given by the admin, versioned and hashed with the policy: Airlock never
   * fetches it. Not needed when only keys are trusted.
   */
  trustedRoot?: Record<string, unknown>;
}

export type SbomFormat = 'spdx' | 'cyclonedx';

/**
 * The `attestations` section: what in-toto statements about the image must say. Values in
 * `builderIds`, `sourceRepositories` and `sourceRefs` are exact strings, or anchored RE2 patterns
 * when they start with `^` (and then must end with `$`). Source repositories are compared as URIs
 * without `git+` and `.git`: `https://github.com/org/app`.
 */
export interface AttestationsSection {
  provenance?: {
    required: boolean;
    builderIds?: string[];
    sourceRepositories?: string[];
    sourceRefs?: string[];
  };
  sbom?: {
    required: boolean;
    formats?: SbomFormat[];
  };
}

const STRING_LIST = {
  type: 'array',
  minItems: 1,
  maxItems: 20,
  items: { type: 'string', minLength: 1, maxLength: 512 },
} as const;

/** JSON Schema of the `signatures` section (a fragment of the policy schema). */
export const SIGNATURES_SECTION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  description: 'Signers that count: public keys and/or keyless certificate identities',
  anyOf: [{ required: ['keys'] }, { required: ['identities'] }],
  properties: {
    keys: {
      type: 'array',
      minItems: 1,
      maxItems: 20,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'publicKey'],
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' },
          publicKey: {
            type: 'string',
            maxLength: 4096,
            pattern: '^-----BEGIN PUBLIC KEY-----',
            description: 'PEM SPKI, ECDSA P-256',
          },
        },
      },
    },
    identities: {
      type: 'array',
      minItems: 1,
      maxItems: 20,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['issuer'],
        description: 'Give exactly one of `subject` (exact) or `subjectRegExp` (anchored ^…$, RE2)',
        oneOf: [{ required: ['subject'] }, { required: ['subjectRegExp'] }],
        properties: {
          issuer: { type: 'string', minLength: 1, maxLength: 512, description: 'OIDC issuer, exact' },
          subject: { type: 'string', minLength: 1, maxLength: 512, description: 'Certificate SAN, exact' },
          subjectRegExp: {
            type: 'string',
            minLength: 2,
            maxLength: 512,
            description: 'Anchored RE2 pattern',
          },
        },
      },
    },
    minimum: { type: 'integer', minimum: 1, maximum: 20, default: 1, description: 'Distinct signers needed' },
    trustedRoot: {
      type: 'object',
      description: 'Sigstore trusted_root.json for keyless signatures (CAs, transparency-log keys)',
    },
    transparencyLog: {
      type: 'string',
      enum: ['required', 'optional'],
      default: 'required',
      description: 'For keyless signatures: is a verified transparency-log entry needed',
    },
  },
} as const;

/** JSON Schema of the `attestations` section (a fragment of the policy schema). */
export const ATTESTATIONS_SECTION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    provenance: {
      type: 'object',
      additionalProperties: false,
      required: ['required'],
      properties: {
        required: { type: 'boolean' },
        builderIds: { ...STRING_LIST, description: 'runDetails.builder.id: exact, or anchored ^…$ RE2' },
        sourceRepositories: { ...STRING_LIST, description: 'e.g. https://github.com/org/app, or ^…$' },
        sourceRefs: { ...STRING_LIST, description: 'e.g. refs/heads/main, or ^refs/tags/v.+$' },
      },
    },
    sbom: {
      type: 'object',
      additionalProperties: false,
      required: ['required'],
      properties: {
        required: { type: 'boolean' },
        formats: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { type: 'string', enum: ['spdx', 'cyclonedx'] },
        },
      },
    },
  },
} as const;

/** Why a policy value is refused when the policy is saved. Stable codes. */
export enum TrustPolicyProblemCode {
  Schema = 'schema',
  UnanchoredPattern = 'unanchored_pattern',
  InvalidPattern = 'invalid_pattern',
  InvalidKey = 'invalid_key',
  DuplicateName = 'duplicate_name',
}

export interface TrustPolicyProblem {
  /** JSON pointer into the policy document, e.g. `/signatures/identities/0/subjectRegExp`. */
  path: string;
  code: TrustPolicyProblemCode;
  message: string;
}

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const validateSignatures = ajv.compile<SignaturesSection>(SIGNATURES_SECTION_SCHEMA);
const validateAttestations = ajv.compile<AttestationsSection>(ATTESTATIONS_SECTION_SCHEMA);

const schemaProblems = (base: string, errors: ErrorObject[] | null | undefined): TrustPolicyProblem[] =>
  (errors ?? []).map((e) => ({
    path: `${base}${e.instancePath}`,
    code: TrustPolicyProblemCode.Schema,
    message:
      e.keyword === 'additionalProperties'
        ? `unknown field "${String((e.params as { additionalProperty: string }).additionalProperty)}"`
        : (e.message ?? 'is invalid'),
  }));

/** A value matcher compiled from an exact string or an anchored RE2 pattern. */
export interface ValueMatcher {
  readonly source: string;
  matches(value: string): boolean;
}

export type CompiledValue =
  | { ok: true; matcher: ValueMatcher }
  | {
      ok: false;
      code: TrustPolicyProblemCode;
      message: string;
      /** For an unanchored pattern: would it match somewhere inside the value? (diagnosis only) */
      wouldMatchUnanchored?: (value: string) => boolean;
    };

const MAX_PATTERN = 512;
/** Ends with `$` that is not escaped (an even number of backslashes before it). */
const ENDS_WITH_ANCHOR = /(?:^|[^\\])(?:\\\\)*\$$/;
/** Characters that make an "exact" value look like a regular expression someone forgot to anchor. */
const REGEX_LOOKING = /[*?()[\]{}|\\]|\$$/;

function compileRe2(pattern: string): RE2JS | string {
  try {
    return RE2JS.compile(pattern);
  } catch (e) {
    return e instanceof Error ? e.message : 'invalid regular expression';
  }
}

/**
 * Compiles an anchored RE2 pattern. Matching is always whole-value (RE2's `testExact`), so even
 * `^a|b$` cannot match inside a longer value; the anchors are required so that what an admin
 * reads is what is enforced.
 */
export function compileAnchoredPattern(pattern: string): CompiledValue {
  if (pattern.length > MAX_PATTERN) {
    return { ok: false, code: TrustPolicyProblemCode.InvalidPattern, message: 'pattern longer than 512' };
  }
  const compiled = compileRe2(pattern);
  if (typeof compiled === 'string') {
    return {
      ok: false,
      code: TrustPolicyProblemCode.InvalidPattern,
      message: `not an RE2 pattern: ${compiled}`,
    };
  }
  if (!pattern.startsWith('^') || !ENDS_WITH_ANCHOR.test(pattern)) {
    return {
      ok: false,
      code: TrustPolicyProblemCode.UnanchoredPattern,
      message: 'the pattern must be anchored: start with ^ and end with $',
      wouldMatchUnanchored: (value) => compiled.test(value),
    };
  }
  return { ok: true, matcher: { source: pattern, matches: (value) => compiled.testExact(value) } };
}

/** An exact value, or an anchored pattern when it starts with `^`. */
export function compileValue(value: string): CompiledValue {
  if (value.startsWith('^')) return compileAnchoredPattern(value);
  if (REGEX_LOOKING.test(value)) {
    const compiled = compileRe2(value);
    return {
      ok: false,
      code: TrustPolicyProblemCode.UnanchoredPattern,
      message: 'looks like a regular expression: anchor it (^…$), or remove the special characters',
      wouldMatchUnanchored: typeof compiled === 'string' ? undefined : (v) => compiled.test(v),
    };
  }
  return { ok: true, matcher: { source: value, matches: (v) => v === value } };
}

/** Parses a trusted key; only ECDSA P-256 SPKI keys are accepted. */
export function parseTrustedKey(pem: string): KeyObject | string {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    return 'not a PEM public key';
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    return 'only ECDSA P-256 public keys are supported';
  }
  return key;
}

/** sha256 of the DER SPKI, hex: a hint signers may give for a trusted key (not Airlock's key id). */
export function publicKeyId(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** Every problem with a `signatures` section: schema first, then keys and patterns. */
export function signaturesSectionProblems(section: unknown, base = '/signatures'): TrustPolicyProblem[] {
  if (!validateSignatures(section)) return schemaProblems(base, validateSignatures.errors);
  const problems: TrustPolicyProblem[] = [];
  const names = new Set<string>();
  (section.keys ?? []).forEach((k, i) => {
    if (names.has(k.name)) {
      problems.push({
        path: `${base}/keys/${i}/name`,
        code: TrustPolicyProblemCode.DuplicateName,
        message: `duplicate key name "${k.name}"`,
      });
    }
    names.add(k.name);
    const parsed = parseTrustedKey(k.publicKey);
    if (typeof parsed === 'string') {
      problems.push({
        path: `${base}/keys/${i}/publicKey`,
        code: TrustPolicyProblemCode.InvalidKey,
        message: parsed,
      });
    }
  });
  (section.identities ?? []).forEach((id, i) => {
    if (id.subjectRegExp === undefined) return;
    const compiled = compileAnchoredPattern(id.subjectRegExp);
    if (!compiled.ok) {
      problems.push({
        path: `${base}/identities/${i}/subjectRegExp`,
        code: compiled.code,
        message: compiled.message,
      });
    }
  });
  return problems;
}

/** Every problem with an `attestations` section: schema first, then patterns. */
export function attestationsSectionProblems(section: unknown, base = '/attestations'): TrustPolicyProblem[] {
  if (!validateAttestations(section)) return schemaProblems(base, validateAttestations.errors);
  const problems: TrustPolicyProblem[] = [];
  const provenance = section.provenance;
  for (const field of ['builderIds', 'sourceRepositories', 'sourceRefs'] as const) {
    (provenance?.[field] ?? []).forEach((value, i) => {
      const compiled = compileValue(value);
      if (!compiled.ok) {
        problems.push({
          path: `${base}/provenance/${field}/${i}`,
          code: compiled.code,
          message: compiled.message,
        });
      }
    });
  }
  return problems;
}

/** Whether the value passes the `signatures` section schema (the verifiers refuse anything else). */
export function isSignaturesSection(section: unknown): section is SignaturesSection {
  return validateSignatures(section);
}

export function isAttestationsSection(section: unknown): section is AttestationsSection {
  return validateAttestations(section);
}
