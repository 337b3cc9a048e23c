import { Logger } from '@nestjs/common';
import { type AirlockConfig } from '../../config';
import { type SigningKey } from '../../trust';
import { type AuditCheckpointStore } from './audit-checkpoint.store';
import { type AuditRepository, SEAL_BATCH } from './audit.repository';
import { AuditService } from './audit.service';

/** A sealer over a pending table whose batches come back with the given sizes, then empty. */
function sealer(batches: number[]) {
  const sizes = [...batches];
  let calls = 0;
  const repo = {
    sealBatch: async () => {
      calls++;
      return sizes.shift() ?? 0;
    },
  } as unknown as AuditRepository;
  const service = new AuditService(repo, {} as AuditCheckpointStore, {} as SigningKey, {} as AirlockConfig);
  return { service, calls: () => calls };
}

describe(AuditService.name, () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('seals batch after batch while they come back full', async () => {
    const { service, calls } = sealer([SEAL_BATCH, SEAL_BATCH, 3]);
    await service.sealNow();
    expect(calls()).toBe(3);
  });

  it('stops at a batch short of full: what came after waits for the next tick', async () => {
    const { service, calls } = sealer([3, 2, 1]);
    await service.sealNow();
    expect(calls()).toBe(1);
  });
});
