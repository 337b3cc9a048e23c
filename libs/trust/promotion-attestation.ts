import { dsse } from '@sigstore/core';
import { type SigningKey } from './signing-key';

export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const PROMOTION_PREDICATE = 'https://airlock.dev/attestations/promotion/v1';
export const VSA_PREDICATE = 'https://slsa.dev/verification_summary/v1';
export const DSSE_ENVELOPE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
export const IN_TOTO_PAYLOAD_TYPE_JSON = 'application/vnd.in-toto+json';
export const AIRLOCK_VERIFIER_ID = 'https://airlock.dev/verifier/v1';

/** What Airlock asserts about one promotion (the promotion predicate). */
export interface PromotionFacts {
  promotionId: string;
  environment: string;
  source: { registry: string; repository: string; digest: string; tag: string | null };
  target: { registry: string; repository: string; digest: string; tag: string | null };
  policy: { version: number; sha256: string };
  checks: Array<{ kind: string; status: string; summary: string }>;
  /**
   * Every exception that let a check (`finding` null) or one of its findings pass: the waiver's id,
   * reason and expiry. A waived check's status is `waived`, never `pass`.
   */
  waivers: Array<{
    check: string;
    finding: string | null;
    waiver: string;
    reason: string;
    expiresAt: string;
  }>;
  approvals: Array<{ decision: string; approver: string; at: string }>;
  breakGlass: boolean;
  /**
   * `rollback`: the tag was moved back to a digest Airlock promoted there before (absent in
   * attestations made before rollbacks existed: a promotion).
   */
  kind: 'promotion' | 'rollback';
  /**
   * A rollback: the promotion whose digest the tag held (from), the one it restored (to), and why
   * (the requester's reason, if given).
   */
  rollback: { fromPromotionId: string | null; toPromotionId: string; reason: string | null } | null;
  /** The upstream promotion the environment chain relied on (null: the environment has no upstreams). */
  upstream: { environment: string; promotionId: string; tag: string | null; promotedAt: string } | null;
  /** The soak the policy asked for and what was observed (null: no soak asked). */
  soak: { required: string; skipped: boolean; since: string; observedSeconds: number } | null;
  /** Whether a freeze held when the copy started and break-glass overrode it, and which windows. */
  freeze: { overridden: boolean; windows: string[] };
  requester: { identity: string; claims: Record<string, unknown> };
  requestedAt: string;
  promotedAt: string;
}

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

function statement(subjectName: string, digest: string, predicateType: string, predicate: object): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: IN_TOTO_STATEMENT_V1,
      subject: [{ name: subjectName, digest: { sha256: digest.replace(/^sha256:/, '') } }],
      predicateType,
      predicate,
    }),
  );
}

/**
 * Signs an in-toto statement as a DSSE envelope with Airlock's key. The `keyid` names the key
 * (GET /v1/keys) in the form DSSE tooling derives itself, so `cosign verify-attestation --key`
 * still matches it (see signingKeyId).
 */
export function signStatement(payload: Buffer, key: SigningKey): DsseEnvelope {
  const sig = key.sign(dsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE_JSON, payload));
  return {
    payloadType: IN_TOTO_PAYLOAD_TYPE_JSON,
    payload: payload.toString('base64'),
    signatures: [{ keyid: key.keyId, sig: sig.toString('base64') }],
  };
}

/**
 * The two statements Airlock attaches to a promoted image: its own promotion predicate (what,
 * under which policy, which checks, who approved) and a SLSA Verification Summary Attestation.
 */
export function promotionStatements(
  facts: PromotionFacts,
): Array<{ predicateType: string; payload: Buffer }> {
  const subject = `${facts.target.registry}/${facts.target.repository}`;
  const digest = facts.target.digest;
  // Waived checks pass as the policy allowed them to; the promotion predicate names each waiver.
  const passed = facts.checks.every((c) => c.status === 'pass' || c.status === 'waived');
  return [
    { predicateType: PROMOTION_PREDICATE, payload: statement(subject, digest, PROMOTION_PREDICATE, facts) },
    {
      predicateType: VSA_PREDICATE,
      payload: statement(subject, digest, VSA_PREDICATE, {
        verifier: { id: AIRLOCK_VERIFIER_ID },
        timeVerified: facts.promotedAt,
        resourceUri: `oci://${subject}@${digest}`,
        policy: {
          uri: `airlock://environments/${facts.environment}/policies/${facts.policy.version}`,
          digest: { sha256: facts.policy.sha256 },
        },
        verificationResult: passed ? 'PASSED' : 'FAILED',
        verifiedLevels: [],
        inputAttestations: [],
      }),
    },
  ];
}

/** The annotation naming the promotion an Airlock layer of a `.att` attests. */
export const PROMOTION_ID_ANNOTATION = 'dev.airlock.promotion-id';

export interface AttestationLayer {
  mediaType: string;
  bytes: Buffer;
  annotations: Record<string, string>;
}

/** A layer already in the registry, by descriptor. */
export interface LayerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/**
 * cosign's `.att` layers: one DSSE envelope each, with the annotations cosign writes, and the
 * promotion they attest (so a later write of the same `.att` knows which layers are whose).
 */
export function cosignAttestationLayers(
  envelopes: Array<{ predicateType: string; envelope: DsseEnvelope }>,
  promotionId?: string,
): AttestationLayer[] {
  return envelopes.map((e) => ({
    mediaType: DSSE_ENVELOPE_MEDIA_TYPE,
    bytes: Buffer.from(JSON.stringify(e.envelope)),
    annotations: {
      'dev.cosignproject.cosign/signature': '',
      predicateType: e.predicateType,
      ...(promotionId ? { [PROMOTION_ID_ANNOTATION]: promotionId } : {}),
    },
  }));
}

/**
 * The layers of a digest's `.att` after a promotion writes its statements, as cosign appends: the
 * layers already there (earlier promotions' attestations, the source's carried ones), then the
 * source's carried layers not there yet, then this promotion's. Layers this promotion wrote on an
 * earlier attempt are replaced, never doubled.
 */
export function appendAttestationLayers(
  existing: readonly LayerDescriptor[],
  carried: readonly LayerDescriptor[],
  mine: readonly AttestationLayer[],
  promotionId: string,
): Array<LayerDescriptor | AttestationLayer> {
  const kept = existing.filter((l) => l.annotations?.[PROMOTION_ID_ANNOTATION] !== promotionId);
  const have = new Set(kept.map((l) => l.digest));
  // The source's own statements of Airlock's predicate types (another Airlock's) are not carried,
  // as before appending: this target's Airlock statements are the ones that speak for it.
  const minePredicates = new Set(mine.map((l) => l.annotations.predicateType));
  const added = carried.filter(
    (l) => !have.has(l.digest) && !minePredicates.has(l.annotations?.predicateType ?? ''),
  );
  return [...kept, ...added, ...mine];
}
