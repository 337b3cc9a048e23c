import Ajv, { type ErrorObject } from 'ajv';
import { DURATION } from './duration';
import {
  ATTESTATIONS_SECTION_SCHEMA,
  attestationsSectionProblems,
  SIGNATURES_SECTION_SCHEMA,
  signaturesSectionProblems,
} from './trust-policy';
import { type PolicyDocument } from './policy';
import { SCANS_SECTION_SCHEMA, scansSectionProblems } from './scan-policy';
import { ROLLBACK_SECTION_SCHEMA, rollbackSectionProblems } from './rollback-policy';
import { FREEZE_SECTION_SCHEMA, freezeSectionProblems } from './freeze-windows';
import { SOAK_SECTION_SCHEMA, UPSTREAM_SECTION_SCHEMA } from './promotion-gate';
import { isSpdxLicense } from './spdx-license';
import { WAIVERS_SECTION_SCHEMA } from './waivers';

/**
 * JSON Schema of a policy document. Every section refuses unknown fields, so a typo in a policy
 * is an error when the version is added, not a silently ignored rule.
 */
export const POLICY_SCHEMA = {
  $id: 'https://airlock.dev/schemas/policy.json',
  type: 'object',
  additionalProperties: false,
  required: ['approvals'],
  properties: {
    approvals: {
      type: 'object',
      additionalProperties: false,
      description: 'Give either `required` (one rule, any approver) or `rules`.',
      oneOf: [{ required: ['required'] }, { required: ['rules'] }],
      properties: {
        required: { type: 'integer', minimum: 0, maximum: 20, description: 'Distinct approvers needed' },
        rules: {
          type: 'array',
          minItems: 1,
          maxItems: 10,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'required'],
            properties: {
              name: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' },
              required: { type: 'integer', minimum: 1, maximum: 20 },
              groups: {
                type: 'array',
                maxItems: 20,
                items: { type: 'string', minLength: 1, maxLength: 256 },
                description: 'An approver must belong to one of these groups',
              },
            },
          },
        },
        expiresAfter: {
          type: 'string',
          pattern: DURATION.source,
          description: 'e.g. 24h: older approvals stop counting',
        },
        pendingTimeout: {
          type: 'string',
          pattern: DURATION.source,
          description: 'e.g. 72h: undecided requests expire',
        },
        separationOfDuties: {
          type: 'object',
          additionalProperties: false,
          properties: {
            requesterCannotApprove: { type: 'boolean', default: true },
            authorCannotApprove: { type: 'boolean', default: true },
          },
        },
      },
    },
    signatures: SIGNATURES_SECTION_SCHEMA,
    attestations: ATTESTATIONS_SECTION_SCHEMA,
    scans: SCANS_SECTION_SCHEMA,
    rollback: ROLLBACK_SECTION_SCHEMA,
    upstream: UPSTREAM_SECTION_SCHEMA,
    soak: SOAK_SECTION_SCHEMA,
    freeze: FREEZE_SECTION_SCHEMA,
    waivers: WAIVERS_SECTION_SCHEMA,
  },
} as const;

// strictRequired off: the oneOf branches name properties declared on the parent object.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const validate = ajv.compile<PolicyDocument>(POLICY_SCHEMA);

const describe = (e: ErrorObject): string => {
  const where = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') {
    return `${where}: unknown field "${String((e.params as { additionalProperty: string }).additionalProperty)}"`;
  }
  return `${where}: ${e.message ?? 'is invalid'}`;
};

/** Returns every problem with the document; an empty list means it is a valid policy. */
export function policyDocumentProblems(document: unknown): string[] {
  if (validate(document)) {
    const rules = document.approvals.rules ?? [];
    const names = rules.map((r) => r.name);
    return [
      ...names
        .filter((n, i) => names.indexOf(n) !== i)
        .map((n) => `/approvals/rules: duplicate rule name "${n}"`),
      ...(document.attestations && !document.signatures
        ? ['/attestations: attestations need a signatures section naming who may sign them']
        : []),
      ...rollbackSectionProblems(document),
      ...(document.scans ? scansSectionProblems(document.scans, !!document.signatures, isSpdxLicense) : []),
      ...(document.freeze ? freezeSectionProblems(document.freeze) : []),
      // Beyond the schema: patterns anchored and linear-time, keys parseable, names unique.
      ...[
        ...(document.signatures ? signaturesSectionProblems(document.signatures, '/signatures') : []),
        ...(document.attestations ? attestationsSectionProblems(document.attestations, '/attestations') : []),
      ].map((p) => `${p.path}: ${p.message} (${p.code})`),
    ];
  }
  return (validate.errors ?? []).map(describe);
}
