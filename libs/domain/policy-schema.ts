import Ajv, { type ErrorObject } from 'ajv';
import { type PolicyDocument } from './policy';

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
      required: ['required'],
      properties: {
        required: { type: 'integer', minimum: 0, maximum: 20, description: 'Distinct approvers needed' },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
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
  return validate(document) ? [] : (validate.errors ?? []).map(describe);
}

export function isPolicyDocument(document: unknown): document is PolicyDocument {
  return validate(document);
}
