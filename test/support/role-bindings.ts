import { type Rig } from './rig';

/**
 * Role bindings made and removed by tests. Kept here, in one place, because how a binding change
 * is made (a proposal by one admin that a second admin approves) is not what those tests are about.
 */
export interface BindingSpec {
  role: 'requester' | 'approver' | 'admin' | 'auditor' | 'break_glass';
  issuer: 'ci' | 'people';
  subject?: string;
  group?: string;
  repositoryPattern?: string;
  artifactRepositoryPattern?: string;
  environment?: string;
}

/** Creates a binding (proposed and approved by two admins) and returns its id; throws unless it was created. */
export async function addRoleBinding(rig: Rig, spec: BindingSpec): Promise<string> {
  const created = await rig.trustChange('POST', '/v1/role-bindings', {
    ...spec,
    issuer: rig.issuers[spec.issuer],
  });
  return created.id as string;
}

/** Removes a binding (proposed and approved by two admins); throws unless the removal took effect. */
export async function removeRoleBinding(rig: Rig, id: string): Promise<void> {
  await rig.trustChange('DELETE', `/v1/role-bindings/${id}`);
}
