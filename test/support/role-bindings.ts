import { type Rig } from './rig';

/**
 * Role bindings made and removed by tests. Kept here, in one place, because how a binding change
 * is made (a proposal one admin makes and a second applies) is not
 * what those tests are about.
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

/**
 * Creates a binding (proposed by one admin, applied by another: four eyes on trust) and returns its
 * id; throws unless it was created.
 */
export async function addRoleBinding(rig: Rig, spec: BindingSpec): Promise<string> {
  const created = await rig.trustChange('POST', '/v1/role-bindings', {
    ...spec,
    issuer: rig.issuers[spec.issuer],
  });
  return created.id as string;
}

/** Removes a binding (likewise proposed and applied); throws unless the removal took effect. */
export async function removeRoleBinding(rig: Rig, id: string): Promise<void> {
  await rig.trustChange('DELETE', `/v1/role-bindings/${id}`);
}
