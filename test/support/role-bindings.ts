import { type Rig } from './rig';

/**
 * Role bindings made and removed by tests. Kept here, in one place, because how a binding change
 * is made (today one admin's request; later perhaps a proposal a second admin approves) is not
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

/** Creates a binding as an admin and returns its id; throws unless it was created. */
export async function addRoleBinding(rig: Rig, spec: BindingSpec): Promise<string> {
  const res = await rig.call('POST', '/v1/role-bindings', {
    as: 'admin',
    body: { ...spec, issuer: rig.issuers[spec.issuer] },
  });
  if (res.status !== 201) throw new Error(`role binding: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** Removes a binding; throws unless the removal took effect. */
export async function removeRoleBinding(rig: Rig, id: string): Promise<void> {
  const res = await rig.call('DELETE', `/v1/role-bindings/${id}`, { as: 'admin' });
  if (res.status !== 204) throw new Error(`remove role binding: ${res.status} ${JSON.stringify(res.body)}`);
}
