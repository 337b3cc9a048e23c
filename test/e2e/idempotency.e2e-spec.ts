import { randomBytes } from 'node:crypto';
import { canonicalHash } from '../../libs/domain';
import { artifact, type ClientName, Rig } from '../support/rig';

/**
 * Idempotency-Key on POST /v1/promotions: replays, reuse with another body, keys still in progress,
 * per-caller scope, a burst of parallel retries, and how keys combine with one-shot CI tokens.
 */
describe('idempotency', () => {
  let rig: Rig;
  let env: string;
  let requesterKey: string;
  const uid = (): string => randomBytes(4).toString('hex');

  const post = (token: string, body: unknown, key?: string): Promise<any> =>
    rig.call('POST', '/v1/promotions', {
      token,
      body,
      headers: key === undefined ? undefined : { 'idempotency-key': key },
    });
  const fresh = (as: ClientName = 'requester'): Promise<string> => rig.token(as, { fresh: true });
  const body = (
    seed: string,
    metadata?: Record<string, string>,
    repository = 'acme/app',
  ): Record<string, unknown> => ({
    artifact: artifact(repository, `${env}-${seed}`),
    environment: env,
    ...(metadata ? { metadata } : {}),
  });
  const promotionsWithKey = async (key: string): Promise<any[]> =>
    rig.sql('SELECT id, requester_key FROM promotion WHERE idempotency_key = $1 ORDER BY seq', [key]);
  const keyRows = async (key: string): Promise<any[]> =>
    rig.sql('SELECT requester_key, request_hash, promotion_id FROM idempotency_key WHERE key = $1', [key]);

  beforeAll(async () => {
    rig = await Rig.start();
    env = `idem-${uid()}`;
    await rig.environment(env);
    requesterKey = (await rig.call('GET', '/v1/whoami', { as: 'requester' })).body.identity;
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('answers a replay with the same key and body with the same promotion (200)', async () => {
    const key = `same-${uid()}`;
    const token = await fresh();
    const first = await post(token, body('same', { build: '7' }), key);
    expect(first.status).toBe(201);
    // The same CI token may be sent again with the same key: that is a retry, not a replay attack.
    const second = await post(token, body('same', { build: '7' }), key);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(second.headers.get('location')).toBe(`/v1/promotions/${first.body.id}`);
    // A retry with a new token of the same caller is the same request too.
    const third = await post(await fresh(), body('same', { build: '7' }), key);
    expect(third.status).toBe(200);
    expect(third.body.id).toBe(first.body.id);

    expect((await promotionsWithKey(key)).map((r) => r.id)).toEqual([first.body.id]);
    const rows = await keyRows(key);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ requester_key: requesterKey, promotion_id: first.body.id });
    // The stored hash is the canonical hash of the request (the premise of the in-progress test).
    expect(rows[0].request_hash).toBe(canonicalHash({ ...body('same'), metadata: { build: '7' } }));
  });

  it('refuses the same key with a different body (422 idempotency_key_reused), creating nothing', async () => {
    const key = `reuse-${uid()}`;
    const first = await post(await fresh(), body('reuse-a'), key);
    expect(first.status).toBe(201);
    const before = (await rig.sql('SELECT count(*)::int AS n FROM promotion'))[0].n;
    for (const other of [body('reuse-b'), body('reuse-a', { build: 'x' })]) {
      const res = await post(await fresh(), other, key);
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.code).toBe('idempotency_key_reused');
    }
    expect((await rig.sql('SELECT count(*)::int AS n FROM promotion'))[0].n).toBe(before);
    expect(await keyRows(key)).toEqual([
      expect.objectContaining({
        promotion_id: first.body.id,
        request_hash: canonicalHash({ ...body('reuse-a'), metadata: {} }),
      }),
    ]);
  });

  it('answers 409 idempotency_key_in_progress while the first request is still being handled', async () => {
    // For a tag (or an environment with a chain) the service claims a key (a row with no promotion
    // yet) before it resolves and judges, and completes it in the statement that inserts the
    // promotion. Inserting that in-progress row ourselves freezes the window between the two,
    // deterministically: to the API it is exactly what a concurrent first request that has not
    // finished looks like (this digest request, whose insert claims the key itself, included).
    const key = `inprog-${uid()}`;
    const b = body('inprog');
    await rig.sql('INSERT INTO idempotency_key (requester_key, key, request_hash) VALUES ($1, $2, $3)', [
      requesterKey,
      key,
      canonicalHash({ ...b, metadata: {} }),
    ]);
    const token = await fresh();
    const res = await post(token, b, key);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('idempotency_key_in_progress');
    // Another body under the key is still a misuse of the key.
    expect((await post(token, body('inprog-other'), key)).body.code).toBe('idempotency_key_reused');
    expect(await promotionsWithKey(key)).toEqual([]);
    expect((await keyRows(key))[0].promotion_id).toBeNull();

    // A claim whose request died long ago is taken over, and the retry then goes through.
    await rig.sql(
      "UPDATE idempotency_key SET created_at = now() - interval '10 minutes' WHERE requester_key = $1 AND key = $2",
      [requesterKey, key],
    );
    const retry = await post(token, b, key);
    expect(retry.status).toBe(201);
    expect((await keyRows(key))[0].promotion_id).toBe(retry.body.id);
  });

  it('scopes keys to the caller: the same key from another caller is another promotion', async () => {
    const key = `scoped-${uid()}`;
    const mine = await post(await fresh('requester'), body('scoped'), key);
    // ci-other may request only its own repository's artifacts (acme/other).
    const theirs = await post(await fresh('otherRepo'), body('scoped', undefined, 'acme/other'), key);
    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(theirs.body.requester).not.toBe(mine.body.requester);
    // Each caller's replay finds its own.
    expect((await post(await fresh('requester'), body('scoped'), key)).body.id).toBe(mine.body.id);
    expect((await post(await fresh('otherRepo'), body('scoped', undefined, 'acme/other'), key)).body.id).toBe(
      theirs.body.id,
    );
    const rows = await promotionsWithKey(key);
    expect(rows.map((r) => r.id).sort()).toEqual([mine.body.id, theirs.body.id].sort());
    expect(await keyRows(key)).toHaveLength(2);
  });

  it('creates exactly one promotion from 20 parallel requests with one key', async () => {
    for (let round = 0; round < 3; round++) {
      const key = `burst-${round}-${uid()}`;
      const shared = await fresh();
      // Half retry with one token, half with tokens of their own: all are the same caller.
      const tokens = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? Promise.resolve(shared) : fresh())),
      );
      const answers = await Promise.all(tokens.map((t) => post(t, body(`burst-${round}`), key)));
      const rows = await promotionsWithKey(key);
      expect(rows).toHaveLength(1);
      const id = rows[0].id;
      expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
      for (const a of answers) {
        if (a.status === 201 || a.status === 200) expect(a.body.id).toBe(id);
        else {
          expect(a.status).toBe(409);
          expect(a.body.code).toBe('idempotency_key_in_progress');
        }
      }
      expect(await keyRows(key)).toEqual([expect.objectContaining({ promotion_id: id })]);
      const done = await rig.waitForStatus(id, ['approved']);
      expect(done.history.map((h: any) => h.to)).toEqual(['received', 'checking', 'approved']);
    }
  });

  it('refuses a CI token that already created a promotion under another key (409 token_replayed)', async () => {
    const token = await fresh();
    const key1 = `tok1-${uid()}`;
    const key2 = `tok2-${uid()}`;
    const first = await post(token, body('tok'), key1);
    expect(first.status).toBe(201);
    const other = await post(token, body('tok'), key2);
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('token_replayed');
    const noKey = await post(token, body('tok-nokey'));
    expect(noKey.status).toBe(409);
    expect(noKey.body.code).toBe('token_replayed');
    // The refused request left its key free: nothing was kept under it.
    expect(await keyRows(key2)).toEqual([]);
    expect(await promotionsWithKey(key2)).toEqual([]);
    const [{ n }] = await rig.sql('SELECT count(*)::int AS n FROM promotion WHERE token_jti = $1', [
      (await rig.sql('SELECT token_jti FROM promotion WHERE id = $1', [first.body.id]))[0].token_jti,
    ]);
    expect(n).toBe(1);
    // …so a new token may use it.
    const later = await post(await fresh(), body('tok'), key2);
    expect(later.status).toBe(201);
    expect(later.body.id).not.toBe(first.body.id);
    // And the first token's own key still replays.
    expect((await post(token, body('tok'), key1)).body.id).toBe(first.body.id);
  });

  it('leaves the key free when the environment has no active policy yet', async () => {
    const bare = `idem-nopolicy-${uid()}`;
    await rig.trustChange('POST', '/v1/environments', {
      name: bare,
      sources: [{ registry: 'registry.staging.example.com', repositories: ['acme/*'] }],
      target: { registry: 'registry.prod.example.com', repository: 'prod/{repository}' },
    });
    const key = `nopolicy-${uid()}`;
    const request = { artifact: artifact('acme/app', `${bare}-1`), environment: bare };
    for (let i = 0; i < 2; i++) {
      const res = await post(await fresh(), request, key);
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 422, code: 'no_active_policy' });
    }
    expect(await keyRows(key)).toEqual([]);
    // The same key goes through once the environment has a policy.
    const v = await rig.call('POST', `/v1/environments/${bare}/policies`, {
      as: 'admin',
      body: { document: { approvals: { required: 0 } } },
    });
    await rig.call('POST', `/v1/environments/${bare}/policies/${v.body.version}/activate`, { as: 'admin2' });
    const created = await post(await fresh(), request, key);
    expect(created.status).toBe(201);
    expect(await keyRows(key)).toEqual([expect.objectContaining({ promotion_id: created.body.id })]);
  });

  it('refuses a malformed Idempotency-Key (400) before doing anything', async () => {
    const before = (await rig.sql('SELECT count(*)::int AS n FROM idempotency_key'))[0].n;
    for (const key of ['k'.repeat(256), 'with space', 'ünïcode']) {
      const res = await rig.call('POST', '/v1/promotions', {
        token: await fresh(),
        body: body('badkey'),
        headers: { 'idempotency-key': key },
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'Idempotency-Key' })]);
    }
    expect((await rig.sql('SELECT count(*)::int AS n FROM idempotency_key'))[0].n).toBe(before);
  });
});
