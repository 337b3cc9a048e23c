import { generateKeyPairSync, sign } from 'node:crypto';
import { type ChainLink, chainHash, GENESIS_HASH } from './audit-chain';
import { checkpointPayload } from './audit-checkpoint';
import { verifyAuditChain } from './audit-verification';
import { signingKeyId } from './signing-key-set';

function chain(n: number): ChainLink[] {
  const links: ChainLink[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const fields = {
      seq: String(i),
      occurredAt: new Date(1_700_000_000_000 + i).toISOString(),
      actor: { kind: 'human', issuer: 'https://idp', subject: `u${i}` },
      action: 'promotion.requested',
      subjectType: 'promotion',
      subjectId: `p${i}`,
      details: { i },
    };
    const hash = chainHash(fields, prev);
    links.push({ ...fields, prevHash: prev, hash });
    prev = hash;
  }
  return links;
}

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
function checkpoint(link: ChainLink) {
  const unsigned = {
    seq: link.seq,
    hash: link.hash,
    issuedAt: '2026-01-01T00:00:00.000Z',
    keyId: signingKeyId(publicKey),
  };
  return {
    ...unsigned,
    signature: sign('sha256', checkpointPayload(unsigned), privateKey).toString('base64'),
  };
}

describe(verifyAuditChain.name, () => {
  it('accepts an intact chain and reports its head', async () => {
    const links = chain(5);
    const r = await verifyAuditChain(links, [checkpoint(links[2])], publicKeyPem);
    expect(r).toMatchObject({
      ok: true,
      checked: 5,
      head: { seq: '5', hash: links[4].hash },
      checkpointsChecked: 1,
    });
  });

  it('reports an edited event at its sequence number', async () => {
    const links = chain(5);
    links[2] = { ...links[2], details: { i: 999 } };
    const r = await verifyAuditChain(links, [], publicKeyPem);
    expect(r.ok).toBe(false);
    expect(r.firstBrokenLink).toMatchObject({ seq: '3', problem: 'hash_mismatch' });
  });

  it('reports a deleted event as a gap', async () => {
    const links = chain(5);
    links.splice(1, 1);
    const r = await verifyAuditChain(links, [], publicKeyPem);
    expect(r.firstBrokenLink).toMatchObject({ seq: '2', problem: 'sequence_gap' });
  });

  it('catches a re-chained history against a signed checkpoint', async () => {
    const original = chain(6);
    const cp = checkpoint(original[4]);
    // Rewrite event 2 and recompute every later hash: the links verify, the checkpoint does not.
    const rewritten: ChainLink[] = [];
    let prev = GENESIS_HASH;
    for (const l of original) {
      const fields = { ...l, details: l.seq === '2' ? { i: 'forged' } : l.details };
      const hash = chainHash(fields, prev);
      rewritten.push({ ...fields, prevHash: prev, hash });
      prev = hash;
    }
    const r = await verifyAuditChain(rewritten, [cp], publicKeyPem);
    expect(r.firstBrokenLink).toBeNull();
    expect(r.firstCheckpointMismatch).toMatchObject({ seq: '5', problem: 'checkpoint_mismatch' });
  });

  it('catches events removed from the end against a later checkpoint', async () => {
    const links = chain(5);
    const r = await verifyAuditChain(links.slice(0, 3), [checkpoint(links[4])], publicKeyPem);
    expect(r.firstCheckpointMismatch).toMatchObject({ seq: '5', problem: 'checkpoint_beyond_head' });
  });

  it('refuses a checkpoint whose signature does not verify', async () => {
    const links = chain(3);
    const forged = { ...checkpoint(links[1]), hash: 'f'.repeat(64) };
    const r = await verifyAuditChain(links, [forged], publicKeyPem);
    expect(r.firstCheckpointMismatch).toMatchObject({ seq: '2', problem: 'checkpoint_signature_invalid' });
  });
});
