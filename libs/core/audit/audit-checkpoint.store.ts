import { Injectable } from '@nestjs/common';
import { appendFile, readFile } from 'node:fs/promises';
import { AirlockConfig } from '../../config';
import { type AuditCheckpoint } from '../../domain';

/**
 * Signed checkpoints live in an append-only JSON-lines file chosen by the operator (a WORM mount,
 * a synced bucket, …), out of reach of whoever can rewrite the database.
 */
@Injectable()
export class AuditCheckpointStore {
  constructor(private readonly config: AirlockConfig) {}

  async append(checkpoint: AuditCheckpoint): Promise<void> {
    await appendFile(this.config.AUDIT_CHECKPOINT_FILE, `${JSON.stringify(checkpoint)}\n`, { mode: 0o640 });
  }

  async all(): Promise<AuditCheckpoint[]> {
    let text: string;
    try {
      text = await readFile(this.config.AUDIT_CHECKPOINT_FILE, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as AuditCheckpoint);
  }
}
