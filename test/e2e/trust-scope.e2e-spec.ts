import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AirlockStack, developmentBootstrap } from '../../apps/devstack/stack';
import { artifact, type ClientName, Rig } from '../support/rig';
import { addRoleBinding, removeRoleBinding } from '../support/role-bindings';
import { testEnv } from '../support/test-env';

/**
 * Trust boundaries that depend on where a role holds and on whose artifact is asked for: a
 * break-glass review is signed off only by an approver or admin of its environment; a CI workload
 * requests only its own repository's artifacts unless a source mapping or a binding says more; a
 * removed binding stops counting at once, for approvals already given and for the next request.
 */
describe('trust scope', () => {
  let rig: Rig;
  const unique = (): string => randomBytes(3).toString('hex');
  const made: string[] = [];
  const bind = async (spec: Parameters<typeof addRoleBinding>[1]): Promise<string> => {
    const id = await addRoleBinding(rig, spec);
    made.push(id);
    return id;
  };
  const unbind = async (id: string): Promise<void> => {
    await removeRoleBinding(rig, id);
    made.splice(made.indexOf(id), 1);
  };

  beforeAll(async () => {
    rig = await Rig.start();
  });
  afterAll(async () => {
    for (const id of made) await rig?.call('DELETE', `/v1/role-bindings/${id}`, { as: 'admin' });
    await rig?.stop();
  });

  /** A CI token may request one promotion: a fresh token for each. */
  const request = async (as: ClientName, repository: string, environment: string, seed = unique()) =>
    rig.call('POST', '/v1/promotions', {
      token: await rig.token(as, { fresh: true }),
      body: {
        artifact: artifact(repository, seed),
        environment,
      },
    });

  async function awaiting(env: string): Promise<{ id: string; digest: string }> {
    const res = await request('requester', 'acme/app', env);
    expect(res.status).toBe(201);
    await rig.waitForStatus(res.body.id, ['awaiting_approval']);
    return { id: res.body.id, digest: res.body.digest };
  }

  describe('break-glass sign-off', () => {
    it('needs the approver or admin role in the review’s environment', async () => {
      const prod = `bg-prod-${unique()}`;
      const staging = `bg-staging-${unique()}`;
      await rig.environment(prod, { approvals: { required: 1 } });
      await bind({ role: 'approver', issuer: 'people', subject: 'ivan', environment: staging });
      await bind({ role: 'admin', issuer: 'people', subject: 'judy', environment: staging });

      const p = await awaiting(prod);
      const glass = await rig.call('POST', `/v1/promotions/${p.id}/break-glass`, {
        as: 'admin2',
        body: { reason: 'production is down' },
      });
      expect(glass.status).toBe(201);
      const signOff = (as: ClientName) =>
        rig.call('POST', `/v1/break-glass-reviews/${glass.body.id}/sign-off`, {
          as,
          body: { comment: 'reviewed' },
        });

      for (const as of ['scopedApprover', 'scopedAdmin'] as const) {
        const refused = await signOff(as);
        expect({ as, status: refused.status, code: refused.body.code }).toEqual({
          as,
          status: 403,
          code: 'forbidden',
        });
        expect(refused.body.detail ?? refused.body.title).toContain(prod);
      }
      const still = await rig.call('GET', '/v1/break-glass-reviews', { as: 'auditor' });
      expect(still.body.items.find((r: any) => r.id === glass.body.id)).toMatchObject({ signedOffBy: null });

      // Bound to production, the same person may; the one who broke the glass still may not.
      await bind({ role: 'approver', issuer: 'people', subject: 'ivan', environment: prod });
      expect((await signOff('admin2')).body.code).toBe('self_approval');
      const signed = await signOff('scopedApprover');
      expect(signed.status).toBe(200);
      expect(signed.body.signedOffBy).toMatch(/^ivan@/);
    });
  });

  describe('CI repository scoping', () => {
    let env: string;
    beforeAll(async () => {
      env = `scope-${unique()}`;
      await rig.environment(env, { approvals: { required: 1 } });
    });

    it('refuses a workload asking for another repository’s artifact, naming both', async () => {
      const refused = await request('otherRepo', 'acme/app', env);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({
        code: 'repository_not_allowed',
        details: { repository: 'acme/app', claimRepository: 'acme/other' },
      });
      expect(refused.body.detail).toContain('acme/app');
      expect(refused.body.detail).toContain('acme/other');
      // Its own repository is fine.
      expect((await request('otherRepo', 'acme/other', env)).status).toBe(201);
    });

    it('refuses a requester bound to one repository and environment asking for another', async () => {
      const staging = `scope-staging-${unique()}`;
      await rig.environment(staging, { approvals: { required: 1 } });
      await bind({ role: 'requester', issuer: 'ci', repositoryPattern: 'team/app', environment: staging });
      const refused = await request('teamRepo', 'acme/app', staging);
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('repository_not_allowed');
      expect((await request('teamRepo', 'team/app', staging)).status).toBe(201);
      // And nothing at all outside its environment.
      expect((await request('teamRepo', 'team/app', env)).body.code).toBe('forbidden');
    });

    it('honours the source rule’s mapping of the claim to a repository', async () => {
      const mapped = `scope-map-${unique()}`;
      await rig.environment(mapped, { approvals: { required: 1 } }, [
        {
          registry: 'registry.staging.example.com',
          repositories: ['mirror/**', 'acme/*'],
          ciRepository: 'mirror/{repository}',
        } as any,
      ]);
      const shown = await rig.call('GET', `/v1/environments/${mapped}`, { as: 'auditor' });
      expect(shown.body.sources[0].ciRepository).toBe('mirror/{repository}');
      expect((await request('requester', 'mirror/acme/app', mapped)).status).toBe(201);
      // Under this mapping acme/app's workload owns mirror/acme/app, not acme/app itself.
      expect((await request('requester', 'acme/app', mapped)).body.code).toBe('repository_not_allowed');
      expect((await request('otherRepo', 'mirror/acme/app', mapped)).body.code).toBe(
        'repository_not_allowed',
      );
      expect((await request('otherRepo', 'mirror/acme/other', mapped)).status).toBe(201);
    });

    it('honours a binding that widens what a workload may request, until it is removed', async () => {
      const widening = await bind({
        role: 'requester',
        issuer: 'ci',
        repositoryPattern: 'acme/other',
        artifactRepositoryPattern: 'acme/app',
        environment: env,
      });
      const listed = await rig.call('GET', '/v1/role-bindings', { as: 'auditor' });
      expect(listed.body.items.find((b: any) => b.id === widening)).toMatchObject({
        artifactRepositoryPattern: 'acme/app',
      });
      const allowed = await request('otherRepo', 'acme/app', env);
      expect(allowed.status).toBe(201);
      // Still the requester for separation of duties: acme/other's workload asked for it.
      expect(allowed.body.claims.repository).toBe('acme/other');

      await unbind(widening);
      expect((await request('otherRepo', 'acme/app', env)).body.code).toBe('repository_not_allowed');
    });

    it('refuses artifactRepositoryPattern on bindings other than requester, and bad patterns', async () => {
      const wrongRole = await rig.call('POST', '/v1/role-bindings', {
        as: 'admin',
        body: {
          role: 'approver',
          issuer: rig.issuers.people,
          subject: 'ivan',
          artifactRepositoryPattern: 'acme/*',
        },
      });
      expect(wrongRole).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
      const badPattern = await rig.call('POST', '/v1/role-bindings', {
        as: 'admin',
        body: {
          role: 'requester',
          issuer: rig.issuers.ci,
          subject: 'x',
          artifactRepositoryPattern: 'Acme/../x',
        },
      });
      expect(badPattern.status).toBe(400);
      const badMapping = await rig.call('POST', '/v1/environments', {
        as: 'admin',
        body: {
          name: `scope-bad-${unique()}`,
          sources: [
            { registry: 'registry.staging.example.com', repositories: ['acme/*'], ciRepository: 'acme/app' },
          ],
          target: { registry: 'registry.prod.example.com', repository: 'prod/{repository}' },
        },
      });
      expect(badMapping).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
    });
  });

  describe('role changes take effect at once', () => {
    it('an approval stops counting when its approver’s binding is removed', async () => {
      const env = `revoke-${unique()}`;
      await rig.environment(env, { approvals: { required: 2 } });
      const ivan = await bind({ role: 'approver', issuer: 'people', subject: 'ivan', environment: env });
      const p = await awaiting(env);
      const decide = (as: ClientName) =>
        rig.call('POST', `/v1/promotions/${p.id}/approvals`, {
          as,
          body: { decision: 'approve', digest: p.digest },
        });

      const first = await decide('scopedApprover');
      expect(first.status).toBe(201);
      expect(first.body.tally).toMatchObject({ satisfied: false, missing: { approvals: 1 } });

      await unbind(ivan);
      const second = await decide('approver');
      expect(second.status).toBe(201);
      // ivan's approval no longer counts: bob's alone is not enough.
      expect(second.body).toMatchObject({
        status: 'awaiting_approval',
        tally: { satisfied: false, missing: { approvals: 1 }, lapsed: [{ refusal: 'not_approver' }] },
      });
      expect(second.body.tally.lapsed[0].person).toMatch(/^ivan@/);
      expect((await rig.call('GET', `/v1/promotions/${p.id}`, { as: 'auditor' })).body.status).toBe(
        'awaiting_approval',
      );
      // Pending lists count the same way.
      const pending = await rig.call('GET', '/v1/approvals/pending', { as: 'approver2' });
      expect(pending.body.items.find((i: any) => i.id === p.id)?.tally).toMatchObject({
        missing: { approvals: 1 },
      });

      const third = await decide('approver2');
      expect(third.body).toMatchObject({ status: 'approved', tally: { satisfied: true } });
    });

    it('an approval stops counting when its approver is linked to the requester since', async () => {
      const env = `relink-${unique()}`;
      await rig.environment(env, { approvals: { required: 2 } });
      const p = await awaiting(env);
      const decide = (as: ClientName) =>
        rig.call('POST', `/v1/promotions/${p.id}/approvals`, {
          as,
          body: { decision: 'approve', digest: p.digest },
        });
      expect((await decide('approver')).status).toBe(201);
      // alice turns out to be the person behind the requesting workload.
      const alice = (await rig.call('GET', '/v1/whoami', { as: 'approver' })).body.identity;
      const requester = (await rig.call('GET', `/v1/promotions/${p.id}`, { as: 'auditor' })).body.requester;
      const person = `person-${unique()}`;
      const links = [alice, requester];
      try {
        for (const identity of links) {
          // A trust change: proposed by one admin, applied by another.
          expect(await rig.trustChange('POST', '/v1/identity-links', { identity, person })).toMatchObject({
            identity,
            person,
          });
        }
        const bob = await decide('approver2');
        expect(bob.body).toMatchObject({
          status: 'awaiting_approval',
          tally: { satisfied: false, lapsed: [{ person, refusal: 'self_approval' }] },
        });
      } finally {
        for (const identity of links) {
          await rig
            .trustChange('DELETE', `/v1/identity-links/${encodeURIComponent(identity)}`)
            .catch(() => undefined);
        }
      }
    });

    it('a removed binding refuses the very next request, with the same token', async () => {
      const binding = await bind({ role: 'auditor', issuer: 'people', subject: 'dave' });
      const token = await rig.token('noRole', { fresh: true });
      // Twice, so the verification is remembered.
      for (let i = 0; i < 2; i++)
        expect((await rig.call('GET', '/v1/audit?limit=1', { token })).status).toBe(200);
      await unbind(binding);
      const next = await rig.call('GET', '/v1/audit?limit=1', { token });
      expect(next).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    });

    it('a removed binding counts at once in another API process too', async () => {
      // A second API process of the same deployment: same database, Redis prefix and issuers.
      const second = new AirlockStack({
        dataDir: join(process.env.AIRLOCK_TEST_DATA_DIR as string, `${rig.prefix}-api2`),
        databaseUrl: process.env.AIRLOCK_TEST_DATABASE_URL as string,
        redisUrl: testEnv().redisUrl,
        redisPrefix: rig.prefix,
        bootstrap: developmentBootstrap(rig.issuers),
        mode: 'test',
      });
      try {
        await second.startApi();
        const call = async (token: string) =>
          (
            await fetch(`${second.apiUrl}/v1/audit?limit=1`, {
              headers: { authorization: `Bearer ${token}` },
            })
          ).status;
        const binding = await bind({ role: 'auditor', issuer: 'people', subject: 'dave' });
        const token = await rig.token('noRole', { fresh: true });
        for (let i = 0; i < 2; i++) expect(await call(token)).toBe(200);
        await unbind(binding); // through the first process
        expect(await call(token)).toBe(403);
      } finally {
        await second.stop();
      }
    });
  });
});
