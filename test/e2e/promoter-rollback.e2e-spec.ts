import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { checkImageAttestation } from '../../apps/cli/image-attestation';
import { VerificationKeys } from '../../libs/domain/signing-key-set';
import { type RegistryClient } from '../../libs/oci';
import {
  cosignPayload,
  cosignSign,
  pushCosignSignatures,
  pushImage,
  type PushedImage,
} from '../support/oci-images';
import { PromoterRig } from '../support/promoter-rig';
import { type ClientName, Rig } from '../support/rig';
import { addRoleBinding, removeRoleBinding } from '../support/role-bindings';
import { generateTestKeyPair } from '../support/sigstore';

/**
 * Rollback end to end against real registries with token auth: promote A, promote B to the same
 * tag, roll back to A. The tag points to A again, no blob of the image moved, the environment's
 * history reads A, B, A (the last a rollback), and the digest's `.att` holds both of A's
 * attestations, each verifying. A digest never promoted to the tag is refused and changes nothing;
 * who may roll back is a requester of the environment for its own repository.
 */
describe('promoter: rollback', () => {
  const REPO = 'acme/app';
  const TARGET_REPO = 'prod/acme/app';
  const TAG = 'stable';
  const release = generateTestKeyPair();
  const uid = (): string => randomBytes(3).toString('hex');

  let rig: Rig;
  let pr: PromoterRig;
  let target: RegistryClient;
  let env: string;
  let a: PushedImage;
  let b: PushedImage;
  let promotedA: string;
  let promotedB: string;
  const bindings: string[] = [];

  beforeAll(async () => {
    pr = await PromoterRig.start();
    rig = await Rig.start({
      AIRLOCK_SECRETS_DIR: pr.secretsDir,
      WORKER_QUEUES: 'checks,promote,maintenance',
      WORKER_RETRY_DELAY_MS: '200',
    });
    await rig.trustIssuer(pr.issuer);
    target = pr.client(pr.target);
    env = await environment({
      approvals: { required: 2 },
      signatures: { keys: [{ name: 'release', publicKey: release.publicKeyPem }] },
      scans: { secrets: {} },
      rollback: { approvals: 1 },
    });
  }, 300_000);

  afterAll(async () => {
    for (const id of bindings) await removeRoleBinding(rig, id).catch(() => undefined);
    target?.close();
    await rig?.stop();
    await pr?.stop();
  });

  async function environment(policy: Record<string, unknown>): Promise<string> {
    const name = `rollback-${uid()}`;
    await rig.trustChange('POST', '/v1/environments', {
      name,
      sources: pr.sources(['acme/*']),
      target: pr.targetMapping(),
    });
    const v = await rig.call('POST', `/v1/environments/${name}/policies`, {
      as: 'admin',
      body: { document: policy },
    });
    if (v.status !== 201) throw new Error(`policy: ${v.status} ${JSON.stringify(v.body)}`);
    const activated = await rig.call('POST', `/v1/environments/${name}/policies/${v.body.version}/activate`, {
      as: 'admin2',
    });
    if (activated.status !== 200) throw new Error(`activate: ${activated.status}`);
    return name;
  }

  /** A signed image under TAG in the source (the tag moves there as in any CI). */
  async function signedImage(): Promise<PushedImage> {
    const image = await pushImage(pr.source.directHost, REPO, TAG, {
      layers: 2,
      layerSize: 32 * 1024,
      auth: await pr.pushAuth(pr.source, REPO),
    });
    const payload = cosignPayload(`${pr.source.host}/${REPO}`, image.digest, { creator: 'airlock e2e' });
    await pushCosignSignatures(
      pr.source.directHost,
      REPO,
      image.digest,
      [{ payload, signature: cosignSign(payload, release.privateKey) }],
      await pr.pushAuth(pr.source, REPO),
    );
    return image;
  }

  const terminal = ['promoted', 'failed', 'rejected', 'cancelled', 'expired'];

  async function waitFor(id: string, status: string): Promise<any> {
    const p = await rig.waitForStatus(id, [status, ...terminal], 60_000);
    if (p.status !== status)
      throw new Error(`${id} is ${p.status}, not ${status}: ${JSON.stringify(p.reasons)}`);
    return p;
  }

  async function approve(id: string, digest: string, as: ClientName[]): Promise<void> {
    for (const who of as) {
      const res = await rig.call('POST', `/v1/promotions/${id}/approvals`, {
        as: who,
        body: { decision: 'approve', digest, comment: 'ok' },
      });
      expect(res.status).toBe(201);
    }
  }

  /** Requests the image under TAG, approves it twice, and waits for it to be promoted. */
  async function promote(image: PushedImage): Promise<string> {
    const res = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact: `${pr.source.host}/${REPO}:${TAG}`, environment: env },
    });
    expect(res.status).toBe(201);
    expect(res.body.digest).toBe(image.digest);
    await waitFor(res.body.id, 'awaiting_approval');
    await approve(res.body.id, image.digest, ['approver', 'approver2']);
    await waitFor(res.body.id, 'promoted');
    return res.body.id as string;
  }

  const rollback = async (body: unknown, as: ClientName | null = 'requester', environment = env) =>
    rig.call('POST', `/v1/environments/${environment}/rollback`, {
      ...(as === 'requester' || as === 'otherRepo'
        ? { token: await rig.token(as, { fresh: true }) }
        : as === null
          ? { as: null }
          : { as }),
      body,
    });

  const history = async (): Promise<any[]> => {
    const res = await rig.call('GET', `/v1/environments/${env}/history?tag=${TAG}`, { as: 'auditor' });
    expect(res.status).toBe(200);
    return res.body.items;
  };

  /** Everything that shows a change: the env's promotions and the target tag. */
  const state = async () => ({
    promotions: (
      await rig.sql(
        'SELECT count(*)::int AS n FROM promotion WHERE environment_id = (SELECT id FROM environment WHERE name = $1)',
        [env],
      )
    )[0].n,
    tag: await target.resolveTag(TARGET_REPO, TAG),
  });

  it('promote A, promote B to the same tag: the tag moves (Airlock wrote A there)', async () => {
    a = await signedImage();
    promotedA = await promote(a);
    expect(await target.resolveTag(TARGET_REPO, TAG)).toBe(a.digest);
    b = await signedImage();
    promotedB = await promote(b);
    expect(await target.resolveTag(TARGET_REPO, TAG)).toBe(b.digest);
    expect((await history()).map((h) => [h.digest, h.kind, h.current])).toEqual([
      [b.digest, 'promotion', true],
      [a.digest, 'promotion', false],
    ]);
  });

  it('refuses a digest never promoted to the tag (422) and the one it holds (409), changing nothing', async () => {
    const before = await state();
    const stranger = `sha256:${'e'.repeat(64)}`;
    const unknown = await rollback({ repository: TARGET_REPO, tag: TAG, to: stranger });
    expect(unknown).toMatchObject({ status: 422, body: { code: 'rollback_target_unknown' } });
    const same = await rollback({ repository: TARGET_REPO, tag: TAG, to: b.digest });
    expect(same).toMatchObject({ status: 409, body: { code: 'rollback_nothing_to_do' } });
    const otherTag = await rollback({ repository: TARGET_REPO, tag: 'never-written', to: 'previous' });
    expect(otherTag).toMatchObject({ status: 422, body: { code: 'rollback_target_unknown' } });
    expect(await state()).toEqual(before);
  });

  it('refuses bad input (400) and an unknown environment (404), changing nothing', async () => {
    const before = await state();
    for (const body of [
      { repository: TARGET_REPO, tag: TAG },
      { repository: TARGET_REPO, tag: TAG, to: 'sha256:abc' },
      { repository: TARGET_REPO, tag: 'bad tag', to: 'previous' },
      { repository: 'Prod/UPPER', tag: TAG, to: 'previous' },
      { tag: TAG, to: 'previous' },
      { repository: TARGET_REPO, tag: TAG, to: 'previous', extra: 1 },
      { repository: TARGET_REPO, tag: TAG, to: 'previous', reason: 'x'.repeat(513) },
    ]) {
      const res = await rollback(body);
      expect({ body, status: res.status, code: res.body.code }).toEqual({
        body,
        status: 400,
        code: 'validation_failed',
      });
    }
    const missing = await rollback(
      { repository: TARGET_REPO, tag: TAG, to: 'previous' },
      'requester',
      'no-such-env',
    );
    expect(missing.status).toBe(404);
    expect(await state()).toEqual(before);
  });

  it('who may roll back: a requester for its own repository; not anonymous, another repository, an approver', async () => {
    const before = await state();
    const body = { repository: TARGET_REPO, tag: TAG, to: 'previous' };
    expect((await rollback(body, null)).status).toBe(401);
    expect(await rollback(body, 'otherRepo')).toMatchObject({
      status: 403,
      body: { code: 'repository_not_allowed' },
    });
    expect(await rollback(body, 'approver')).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect(await rollback(body, 'admin')).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    // An approver of another environment only.
    const elsewhere = await environment({ approvals: { required: 1 } });
    bindings.push(
      await addRoleBinding(rig, {
        role: 'approver',
        issuer: 'people',
        subject: 'ivan',
        environment: elsewhere,
      }),
    );
    expect(await rollback(body, 'scopedApprover')).toMatchObject({
      status: 403,
      body: { code: 'forbidden' },
    });
    expect((await rig.call('GET', `/v1/environments/${env}/history`, { as: null })).status).toBe(401);
    expect((await rig.call('GET', `/v1/environments/${env}/history`, { as: 'noRole' })).status).toBe(403);
    expect(await state()).toEqual(before);
  });

  it('a rollback to A: its own rules, recorded as a rollback, the tag back on A with no blob moved', async () => {
    const uploadsBefore = pr.target.uploads.length;
    const res = await rollback({ repository: TARGET_REPO, tag: TAG, to: 'previous', reason: 'B misbehaves' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      kind: 'rollback',
      digest: a.digest,
      tag: TAG,
      rollback: { fromPromotionId: promotedB, toPromotionId: promotedA },
      metadata: { reason: 'B misbehaves' },
    });
    const id = res.body.id as string;
    // Signatures are checked again; the scans ran at A's promotion and are skipped; one approval.
    const waiting = await waitFor(id, 'awaiting_approval');
    expect(waiting.checks.map((c: any) => [c.kind, c.status])).toEqual([['signatures', 'pass']]);
    expect(waiting.reasons).toEqual(['1 approval(s) required']);
    // One rollback of a tag at a time: a second click does not go back once more.
    const again = await rollback({ repository: TARGET_REPO, tag: TAG, to: 'previous' });
    expect(again).toMatchObject({ status: 409, body: { code: 'conflict', details: { promotion: id } } });
    await approve(id, a.digest, ['approver']);
    await waitFor(id, 'promoted');

    expect(await target.resolveTag(TARGET_REPO, TAG)).toBe(a.digest);
    // No blob of the image was uploaded: the only uploads are the rollback's attestation envelopes.
    const imageBlobs = new Set([a.config.digest, ...a.layers.map((l) => l.digest)]);
    const uploads = pr.target.uploads.slice(uploadsBefore);
    expect(uploads.filter((u) => imageBlobs.has(u.digest))).toEqual([]);
    expect(uploads.length).toBeLessThanOrEqual(2);
    const promoted = await rig.sql(
      `SELECT details FROM audit_event WHERE subject_id = $1 AND action = 'promotion.promoted'
       UNION ALL SELECT details FROM audit_pending WHERE subject_id = $1 AND action = 'promotion.promoted'`,
      [id],
    );
    expect(promoted[0].details.copy).toMatchObject({ blobsCopied: 0, blobsMounted: 0, bytesCopied: 0 });
    expect(promoted[0].details.copy.blobsPresent).toBe(imageBlobs.size);

    // The history: A, B, A, the last a rollback.
    expect((await history()).map((h) => [h.digest, h.kind, h.promotionId, h.current])).toEqual([
      [a.digest, 'rollback', id, true],
      [b.digest, 'promotion', promotedB, false],
      [a.digest, 'promotion', promotedA, false],
    ]);
    // The promotions list tells rollbacks apart.
    const listed = await rig.call('GET', `/v1/promotions?environment=${env}&kind=rollback`, {
      as: 'auditor',
    });
    expect(listed.body.items.map((p: any) => [p.id, p.kind])).toEqual([[id, 'rollback']]);
    // The audit trail says rollback.
    const requested = await rig.sql(
      `SELECT details FROM audit_event WHERE subject_id = $1 AND action = 'promotion.rollback_requested'
       UNION ALL SELECT details FROM audit_pending WHERE subject_id = $1 AND action = 'promotion.rollback_requested'`,
      [id],
    );
    expect(requested[0].details).toMatchObject({
      kind: 'rollback',
      rollbackFromPromotionId: promotedB,
      rollbackToPromotionId: promotedA,
      reason: 'B misbehaves',
    });

    // A's `.att` keeps the first promotion's attestation and adds the rollback's; all verify.
    const keys = await rig.call('GET', '/v1/keys');
    const report = await checkImageAttestation(
      target,
      { registry: pr.target.host, repository: TARGET_REPO, digest: a.digest },
      VerificationKeys.fromPublished(keys.body),
    );
    expect(report.problems).toEqual([]);
    expect(report.verified).toBe(true);
    expect(report.promotions.map((p) => [p.predicate?.promotionId, p.predicate?.kind])).toEqual([
      [promotedA, 'promotion'],
      [id, 'rollback'],
    ]);
    expect(report.promotion.predicate).toMatchObject({
      kind: 'rollback',
      rollback: { fromPromotionId: promotedB, toPromotionId: promotedA, reason: 'B misbehaves' },
    });
    // B's attestation is untouched.
    const bReport = await checkImageAttestation(
      target,
      { registry: pr.target.host, repository: TARGET_REPO, digest: b.digest },
      VerificationKeys.fromPublished(keys.body),
    );
    expect(bReport.promotions.map((p) => p.predicate?.promotionId)).toEqual([promotedB]);
  });

  it("airlock verify-attestation (the built CLI) verifies both of A's attestations and shows the rollback", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-rollback-'));
    const keys = join(dir, 'keys.json');
    writeFileSync(keys, JSON.stringify((await rig.call('GET', '/v1/keys')).body));
    const tokenFile = join(dir, 'registry-token');
    writeFileSync(tokenFile, (await pr.pushAuth(pr.target, TARGET_REPO)).bearerToken as string);
    const run = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((done) =>
        execFile(
          process.execPath,
          [resolve(__dirname, '../../dist/apps/cli/main.js'), ...args],
          { env: { PATH: process.env.PATH ?? '', AIRLOCK_SERVER: 'http://127.0.0.1:1' } },
          (error, stdout, stderr) => done({ code: error ? Number(error.code) : 0, stdout, stderr }),
        ),
      );
    const image = `${pr.target.directHost}/${TARGET_REPO}@${a.digest}`;
    const r = await run([
      'verify-attestation',
      image,
      '--keys',
      keys,
      '--insecure',
      '--registry-token-file',
      tokenFile,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`attestation of ${image}: VERIFIED`);
    expect(r.stdout).toMatch(/kind\s+ROLLBACK/);
    expect(r.stdout).toMatch(new RegExp(`rolled back from\\s+promotion ${promotedB}`));
    expect(r.stdout).toMatch(new RegExp(`restores\\s+promotion ${promotedA}`));
    expect(r.stdout).toMatch(/reason\s+B misbehaves/);
    expect(r.stdout).toContain('earlier promotions of this digest (1, oldest first):');
    expect(r.stdout).toContain(`promotion ${promotedA} to ${env}`);
  });

  it('refuses a policy whose rollback needs more approvals than a promotion', async () => {
    const res = await rig.call('POST', `/v1/environments/${env}/policies`, {
      as: 'admin',
      body: { document: { approvals: { required: 1 }, rollback: { approvals: 2 } } },
    });
    expect(res).toMatchObject({ status: 422, body: { code: 'invalid_policy' } });
  });
});
