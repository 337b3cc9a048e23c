import { randomBytes } from 'node:crypto';
import { RegistryClient, RegistryError } from '../../libs/oci';
import { HOSTILE_TAG, startHostileRegistry, type HostileRegistry } from '../support/hostile-registry';
import { Rig } from '../support/rig';
import { generateTestKeyPair } from '../support/sigstore';
import { insecureSource } from '../support/trust-fixtures';

/**
 * A registry that lies (test/support/hostile-registry.ts) against the client, intake and the check
 * stage. What can never succeed ends at once with the reason (422 at intake, `rejected` by the
 * checks, one attempt); what may pass later (a registry too slow for the deadline) is retried and
 * ends `failed`, each attempt cut at the deadline, not after minutes.
 */
describe('hostile registry', () => {
  const ATTEMPTS = 3;
  const release = generateTestKeyPair();
  const unique = () => randomBytes(3).toString('hex');
  let hostile: HostileRegistry;
  let rig: Rig;

  beforeAll(async () => {
    [hostile, rig] = await Promise.all([
      startHostileRegistry(),
      Rig.start({
        WORKER_JOB_ATTEMPTS: String(ATTEMPTS),
        WORKER_RETRY_DELAY_MS: '200',
        // Small, so the slow drip is cut within seconds.
        REGISTRY_DEADLINE_SECONDS: '2',
        REGISTRY_MIN_BYTES_PER_SECOND: '16',
      }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([rig?.stop(), hostile?.stop()]);
  });

  describe('the client', () => {
    let client: RegistryClient;
    beforeAll(() => {
      client = new RegistryClient({
        host: hostile.host,
        insecure: true,
        deadlineMs: 2000,
        minBytesPerSecond: 16,
      });
    });
    afterAll(() => client.close());

    const failure = async (work: Promise<unknown>): Promise<RegistryError> => {
      try {
        await work;
      } catch (e) {
        if (e instanceof RegistryError) return e;
        throw e;
      }
      throw new Error('expected a RegistryError');
    };
    const payload = (scenario: Parameters<HostileRegistry['repository']>[0], size = 4096) =>
      client.getBlobBytes(hostile.repository(scenario), hostile.payloadDigest, { maxBytes: size });

    it('reads the well-behaved repository (the control)', async () => {
      expect((await client.getManifest(hostile.repository('good'), HOSTILE_TAG)).digest).toBe(hostile.digest);
      expect((await payload('good')).length).toBeGreaterThan(0);
    });

    it('cuts a slow drip under the minimum rate: transient, with the reason', async () => {
      const e = await failure(payload('drip'));
      expect({ kind: e.kind, permanent: e.permanent }).toEqual({ kind: 'unavailable', permanent: false });
      expect(e.message).toMatch(/REGISTRY_MIN_BYTES_PER_SECOND|REGISTRY_DEADLINE_SECONDS/);
      expect(e.message).toMatch(/too slow/);
    });

    it('stops an endless blob at its limit: permanent', async () => {
      const e = await failure(payload('endless-blob', 64 * 1024));
      expect({ kind: e.kind, permanent: e.permanent }).toEqual({ kind: 'too_large', permanent: true });
      // The registry was made to stop: far less than it would send in the time the test runs.
      expect(hostile.endlessBytesSent()).toBeLessThan(64 * 1024 * 1024);
    });

    it.each([
      ['mismatched-blob', 'digest_mismatch'],
      ['redirect', 'denied'],
    ] as const)('refuses a %s: %s, permanent', async (scenario, kind) => {
      const e = await failure(payload(scenario));
      expect({ kind: e.kind, permanent: e.permanent }).toEqual({ kind, permanent: true });
    });
  });

  // --- Through the API and the worker

  const signatures = () => ({ signatures: { keys: [{ name: 'release', publicKey: release.publicKeyPem }] } });

  // Every misbehaviour lives in a repository of its own (`acme/<scenario>`), while the CI token
  // names `acme/app`: a requester binding widens what it may request, in these environments only.
  const widening: string[] = [];
  afterAll(async () => {
    for (const id of widening)
      await rig.trustChange('DELETE', `/v1/role-bindings/${id}`).catch(() => undefined);
  });

  async function environment(): Promise<string> {
    const env = `hostile-${unique()}`;
    await rig.environment(env, { approvals: { required: 0 }, ...signatures() }, insecureSource(hostile.host));
    const binding = await rig.trustChange('POST', '/v1/role-bindings', {
      role: 'requester',
      issuer: rig.issuers.ci,
      repositoryPattern: 'acme/app',
      artifactRepositoryPattern: 'acme/*',
      environment: env,
    });
    widening.push(binding.id);
    return env;
  }

  const request = async (artifact: string, env: string) =>
    rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact, environment: env },
    });

  const check = (p: any, kind: string) => {
    const found = (p.checks as any[]).find((c) => c.kind === kind);
    if (!found) throw new Error(`no ${kind} check in ${JSON.stringify(p.checks)}`);
    return found;
  };

  describe('at intake (tags are resolved there)', () => {
    it('the control resolves: 201', async () => {
      const res = await request(
        `${hostile.host}/${hostile.repository('good')}:${HOSTILE_TAG}`,
        await environment(),
      );
      expect(res.status).toBe(201);
      expect(res.body.digest).toBe(hostile.digest);
    });

    it.each([
      ['oversized-manifest', /larger than the limit/],
      ['substituted-manifest', /hashes to/],
      ['foreign-realm', /not one of its configured tokenRealms/],
    ] as const)('%s: 422 registry_refused naming the problem, not 503', async (scenario, reason) => {
      const res = await request(
        `${hostile.host}/${hostile.repository(scenario)}:${HOSTILE_TAG}`,
        await environment(),
      );
      expect({ status: res.status, code: res.body?.code }).toEqual({ status: 422, code: 'registry_refused' });
      expect(res.body.detail ?? res.body.message ?? JSON.stringify(res.body)).toMatch(reason);
    });
  });

  describe('in the check stage', () => {
    async function promote(scenario: Parameters<HostileRegistry['repository']>[0]): Promise<any> {
      const res = await request(
        `${hostile.host}/${hostile.repository(scenario)}@${hostile.digest}`,
        await environment(),
      );
      expect(res.status).toBe(201);
      return rig.waitForStatus(res.body.id, ['approved', 'rejected', 'failed', 'awaiting_approval'], 60_000);
    }

    it('the control is read to the end: the signature check judges it (fail: not signed by the key)', async () => {
      const p = await promote('good');
      expect(p.status).toBe('rejected');
      expect(check(p, 'signatures')).toMatchObject({ status: 'fail', attempts: 1 });
    });

    it.each([
      ['mismatched-blob', /hashes to/],
      ['redirect', /not one of its configured redirectHosts/],
      ['endless-blob', /larger than the limit|longer than its expected/],
    ] as const)('%s: rejected at once (one attempt) with the reason', async (scenario, reason) => {
      const p = await promote(scenario);
      const c = check(p, 'signatures');
      expect({ status: p.status, check: c.status, attempts: c.attempts }).toEqual({
        status: 'rejected',
        check: 'error',
        attempts: 1,
      });
      expect(p.reasons.join('\n')).toMatch(reason);
    });

    it('a slow drip: each attempt cut at the deadline, retried, then failed with the reason', async () => {
      const p = await promote('drip');
      const c = check(p, 'signatures');
      expect({ status: p.status, check: c.status, attempts: c.attempts }).toEqual({
        status: 'failed',
        check: 'error',
        attempts: ATTEMPTS,
      });
      expect(p.reasons.join('\n')).toMatch(/too slow/);
    });
  });
});
