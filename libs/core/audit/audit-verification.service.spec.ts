import { generateKeyPairSync, sign } from 'node:crypto';
import { type AirlockConfig } from '../../config';
import {
  type AuditCheckpoint,
  chainHash,
  type ChainLink,
  checkpointPayload,
  GENESIS_HASH,
  signingKeyId,
  VerificationKeys,
} from '../../domain';
import { type AuditCheckpointStore } from './audit-checkpoint.store';
import {
  type AuditVerificationEntity,
  AuditVerificationStatus,
  VerificationStart,
} from './audit-verification.entity';
import {
  type AuditVerificationRepository,
  type NewVerification,
  type VerificationOutcome,
} from './audit-verification.repository';
import { AuditVerificationService } from './audit-verification.service';
import { type AuditRepository } from './audit.repository';

const actor = { kind: 'human' as const, issuer: 'https://idp', subject: 'grace' };

function chain(n: number): ChainLink[] {
  const links: ChainLink[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const fields = {
      seq: String(i),
      occurredAt: new Date(1_700_000_000_000 + i).toISOString(),
      actor,
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
const keys = VerificationKeys.single(publicKey.export({ type: 'spki', format: 'pem' }).toString());
function checkpoint(link: ChainLink): AuditCheckpoint {
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

/** The chain, the checkpoint store and the verification rows, in memory. */
class World {
  links = chain(50);
  checkpoints: AuditCheckpoint[] = [];
  rows = new Map<string, AuditVerificationEntity>();
  cancelAfterPages = Infinity;
  pagesServed = 0;
  queued: string[] = [];

  chainRepo = {
    head: async () => {
      const last = this.links.at(-1);
      return last ? { seq: last.seq, hash: last.hash } : { seq: '0', hash: GENESIS_HASH };
    },
    pendingCount: async () => 3,
    pages: async function* (
      this: void,
      after: string,
      upTo: string,
      size: number,
    ): AsyncGenerator<ChainLink[]> {
      const w = world;
      const range = w.links.filter((l) => BigInt(l.seq) > BigInt(after) && BigInt(l.seq) <= BigInt(upTo));
      for (let i = 0; i < range.length; i += size) {
        w.pagesServed += 1;
        yield range.slice(i, i + size);
      }
    },
  };

  verificationRepo = {
    insert: async (v: NewVerification, queued: boolean) => {
      const row = {
        ...v,
        id: `v${this.rows.size + 1}`,
        status: queued ? AuditVerificationStatus.Queued : AuditVerificationStatus.Running,
        checked: '0',
        ok: null,
        report: null,
        provenCheckpoint: null,
        error: null,
        cancelRequested: false,
        clientSeenAt: new Date(),
        createdAt: new Date(),
        startedAt: null,
        finishedAt: null,
        durationMs: null,
      } as AuditVerificationEntity;
      this.rows.set(row.id, row);
      if (queued) this.queued.push(row.id);
      return row;
    },
    claim: async (id: string) => {
      const row = this.rows.get(id);
      if (!row || row.cancelRequested || !['queued', 'running'].includes(row.status)) return undefined;
      row.status = AuditVerificationStatus.Running;
      return row;
    },
    progress: async (id: string, checked: number) => {
      const row = this.rows.get(id) as AuditVerificationEntity;
      row.checked = String(checked);
      return this.pagesServed >= this.cancelAfterPages ? 'cancelled' : 'go';
    },
    finish: async (id: string, o: VerificationOutcome) => {
      const row = this.rows.get(id) as AuditVerificationEntity;
      Object.assign(row, { ...o, ok: o.report ? o.report.ok : null, finishedAt: new Date(), durationMs: 1 });
      if (o.report) row.checked = String(o.report.checked);
      return row;
    },
    newestProven: async () =>
      [...this.rows.values()]
        .filter((r) => r.status === AuditVerificationStatus.Completed && r.ok && r.provenCheckpoint)
        .map((r) => r.provenCheckpoint as AuditCheckpoint)
        .sort((a, b) => Number(b.seq) - Number(a.seq))[0],
  };

  service(inlineMax: number): AuditVerificationService {
    return new AuditVerificationService(
      this.chainRepo as unknown as AuditRepository,
      this.verificationRepo as unknown as AuditVerificationRepository,
      { all: async () => this.checkpoints } as unknown as AuditCheckpointStore,
      keys,
      { AUDIT_VERIFY_INLINE_MAX_EVENTS: inlineMax, AUDIT_VERIFY_ABANDON_SECONDS: 60 } as AirlockConfig,
    );
  }
}

let world: World;
beforeEach(() => {
  world = new World();
});

describe(AuditVerificationService.name, () => {
  it('walks a short range inline and records the checkpoint it proved', async () => {
    world.checkpoints = [checkpoint(world.links[19])];
    const { verification, inline } = await world.service(1000).start(actor, VerificationStart.Checkpoint);
    expect(inline).toBe(true);
    expect(verification).toMatchObject({
      status: 'completed',
      requestedStart: 'checkpoint',
      start: 'genesis', // nothing proven yet
      fromSeq: '0',
      toSeq: '50',
      pendingAtStart: 3,
      ok: true,
      progress: { checked: 50, total: 50 },
      provenCheckpoint: { seq: '20' },
      requestedBy: 'grace@https://idp',
    });
  });

  it('starts the next walk from the proven checkpoint, if the store still holds it', async () => {
    world.checkpoints = [checkpoint(world.links[19])];
    const service = world.service(1000);
    await service.start(actor, VerificationStart.Genesis);
    world.links = chain(70);
    const { verification } = await service.start(actor, VerificationStart.Checkpoint);
    expect(verification).toMatchObject({
      start: 'checkpoint',
      fromSeq: '20',
      ok: true,
      progress: { checked: 50, total: 50 },
    });

    // A proven checkpoint that the store no longer holds is no anchor: the walk starts at the genesis.
    world.checkpoints = [];
    const again = await service.start(actor, VerificationStart.Checkpoint);
    expect(again.verification).toMatchObject({ start: 'genesis', fromSeq: '0' });
  });

  it('queues a long range for the worker, which walks it', async () => {
    const service = world.service(10);
    const { verification, inline } = await service.start(actor, VerificationStart.Genesis);
    expect(inline).toBe(false);
    expect(verification.status).toBe('queued');
    expect(world.queued).toEqual([verification.id]);
    await service.run(verification.id);
    expect(world.rows.get(verification.id)).toMatchObject({ status: 'completed', ok: true, checked: '50' });
    // Run again (a duplicate job): a finished verification is left alone.
    await service.run(verification.id);
    expect(world.rows.get(verification.id)?.status).toBe('completed');
  });

  it('stops a walk that is cancelled between pages, recording no result', async () => {
    world.links = chain(12_000); // three pages of 5,000
    world.cancelAfterPages = 1;
    const service = world.service(10);
    const { verification } = await service.start(actor, VerificationStart.Genesis);
    // The progress check is throttled: make every page look due.
    jest.spyOn(Date, 'now').mockImplementation(
      (
        (t = 0) =>
        () =>
          (t += 1000)
      )(),
    );
    try {
      await service.run(verification.id);
    } finally {
      jest.restoreAllMocks();
    }
    expect(world.rows.get(verification.id)).toMatchObject({
      status: 'cancelled',
      ok: null,
      report: null,
      provenCheckpoint: null,
      error: 'cancelled on request',
    });
    expect(world.pagesServed).toBeLessThan(3);
  });
});
