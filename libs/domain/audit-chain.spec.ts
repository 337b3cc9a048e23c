import { generateKeyPairSync, sign } from 'node:crypto';
import { type ChainLink, chainHash, GENESIS_HASH } from './audit-chain';
import { checkpointPayload } from './audit-checkpoint';
import { newestProvenCheckpoint, verifyAuditChain } from './audit-verification';
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

  describe('from an anchor (incremental)', () => {
    it('walks only what follows the anchor, in pages, and judges only later checkpoints', async () => {
      const links = chain(8);
      const anchor = checkpoint(links[2]);
      const later = checkpoint(links[6]);
      const pages = [links.slice(2, 5), links.slice(5)];
      const seen: number[] = [];
      const r = await verifyAuditChain(pages, [checkpoint(links[0]), anchor, later], publicKeyPem, {
        anchor,
        onPage: (checked) => {
          seen.push(checked);
        },
      });
      expect(r).toMatchObject({
        ok: true,
        checked: 5,
        head: { seq: '8' },
        checkpointsChecked: 2,
        checkpointsMatched: 2,
      });
      expect(seen).toEqual([2, 5]);
      expect(newestProvenCheckpoint(r, [anchor, later], publicKeyPem, anchor)).toEqual(later);
    });

    it('finds an edit after the anchor at its seq', async () => {
      const links = chain(6);
      links[4] = { ...links[4], details: { i: 'edited' } };
      const r = await verifyAuditChain(links.slice(2), [], publicKeyPem, { anchor: checkpoint(links[2]) });
      expect(r.firstBrokenLink).toMatchObject({ seq: '5', problem: 'hash_mismatch' });
    });

    it('finds history re-chained behind the anchor at the anchor', async () => {
      const original = chain(6);
      const anchor = checkpoint(original[3]);
      const rewritten: ChainLink[] = [];
      let prev = GENESIS_HASH;
      for (const l of original) {
        const fields = { ...l, details: l.seq === '2' ? { i: 'forged' } : l.details };
        const hash = chainHash(fields, prev);
        rewritten.push({ ...fields, prevHash: prev, hash });
        prev = hash;
      }
      const r = await verifyAuditChain(rewritten.slice(3), [], publicKeyPem, { anchor });
      expect(r).toMatchObject({
        ok: false,
        firstBrokenLink: null,
        firstCheckpointMismatch: { seq: '4', problem: 'checkpoint_mismatch', expected: anchor.hash },
      });
    });

    it('refuses an anchor whose signature does not verify, and one the chain was cut before', async () => {
      const links = chain(4);
      const forged = { ...checkpoint(links[1]), signature: Buffer.from('x').toString('base64') };
      const r = await verifyAuditChain(links.slice(1), [], publicKeyPem, { anchor: forged });
      expect(r.firstCheckpointMismatch).toMatchObject({ seq: '2', problem: 'checkpoint_signature_invalid' });
      const cut = await verifyAuditChain([], [], publicKeyPem, { anchor: checkpoint(links[3]) });
      expect(cut.firstCheckpointMismatch).toMatchObject({ seq: '4', problem: 'checkpoint_beyond_head' });
    });

    it('stops when onPage throws (a cancelled walk)', async () => {
      const links = chain(4);
      await expect(
        verifyAuditChain([links.slice(0, 2), links.slice(2)], [], publicKeyPem, {
          onPage: () => {
            throw new Error('cancelled');
          },
        }),
      ).rejects.toThrow('cancelled');
    });
  });
});
