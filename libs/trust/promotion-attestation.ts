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

/** cosign's `.att` layers: one DSSE envelope each, with the annotations cosign writes. */
export function cosignAttestationLayers(
  envelopes: Array<{ predicateType: string; envelope: DsseEnvelope }>,
): Array<{ mediaType: string; bytes: Buffer; annotations: Record<string, string> }> {
  return envelopes.map((e) => ({
    mediaType: DSSE_ENVELOPE_MEDIA_TYPE,
    bytes: Buffer.from(JSON.stringify(e.envelope)),
    annotations: { 'dev.cosignproject.cosign/signature': '', predicateType: e.predicateType },
  }));
}
