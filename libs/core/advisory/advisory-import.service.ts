import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { type EntityManager } from 'typeorm';
import { DomainError, ErrorCode, jsonShapeProblem, notFound } from '../../domain';
import { normalisePackageName, splitEcosystem } from '../../sbom';
import {
  advisorySeverity,
  jsonUploadDocuments,
  type OsvAdvisory,
  type OsvAffected,
  osvProblems,
  OsvUploadError,
  type OsvUploadDocument,
  zipUploadDocuments,
} from '../../vuln';
import { OUTBOX_TOPIC, WakeBus } from '../../jobs';
import { AuditRepository } from '../audit/audit.repository';
import { decodeCursor, type Page, toPage } from '../common/cursor';
import { type Caller } from '../identity/caller';
import { type AdvisoryImportEntity } from './advisory.entity';
import { AdvisoryImportView, AdvisoryView } from './advisory.dto';
import { VerificationQueue } from '../verification/verification-queue';
import { AdvisoryRepository, type StorableAdvisory, type UpsertCounts } from './advisory.repository';

const BATCH = 1000;
/** Parsed documents held before they are written: bounds memory whatever the archive holds. */
const BATCH_BYTES = 32 * 1024 * 1024;
const MAX_PROBLEMS = 20;

export type AdvisoryUpload =
  { kind: 'json'; body: unknown; bytes: Buffer } | { kind: 'zip'; bytes: Buffer; fileName?: string };

function storable(a: OsvAdvisory): StorableAdvisory {
  // One row per package the advisory names, holding every affected entry for it.
  const packages = new Map<string, StorableAdvisory['packages'][number]>();
  for (const entry of a.affected ?? []) {
    if (!entry.package) continue;
    const { ecosystem, release } = splitEcosystem(entry.package.ecosystem);
    const name = normalisePackageName(ecosystem, entry.package.name);
    const key = `${ecosystem}\u0000${release}\u0000${name}`;
    const row = packages.get(key) ?? { ecosystem, release, name, affected: [] as OsvAffected[] };
    row.affected.push(entry);
    packages.set(key, row);
  }
  return {
    id: a.id,
    modified: a.modified,
    withdrawn: a.withdrawn ?? null,
    aliases: a.aliases ?? [],
    summary: (a.summary ?? a.details ?? '').slice(0, 500),
    severity: advisorySeverity(a),
    document: a,
    packages: [...packages.values()],
  };
}

/**
 * Admins upload OSV advisories; the vulnerability scan matches against what is stored. An import
 * is all or nothing: one invalid document refuses the whole upload and stores nothing.
 */
@Injectable()
export class AdvisoryImportService {
  constructor(
    private readonly repo: AdvisoryRepository,
    private readonly audit: AuditRepository,
    private readonly verification: VerificationQueue,
    private readonly wakeups: WakeBus,
  ) {}

  /**
   * What the API received: bytes from the zip parser, or parsed JSON. JSON is hashed as parsed and
   * re-serialised, so the same documents sent with other whitespace are the same import.
   */
  static uploadOf(body: unknown, fileName?: string): AdvisoryUpload {
    if (Buffer.isBuffer(body)) return { kind: 'zip', bytes: body, fileName };
    if (typeof body !== 'object' || body === null) {
      throw new DomainError(ErrorCode.ValidationFailed, 'body: an OSV document or an array of them', {
        field: 'body',
      });
    }
    const shape = jsonShapeProblem(body);
    if (shape)
      throw new DomainError(ErrorCode.InvalidAdvisories, `the upload is not valid OSV: it ${shape}`, {
        problems: [shape],
      });
    return { kind: 'json', body, bytes: Buffer.from(JSON.stringify(body)) };
  }

  /** `created` false: these exact bytes were imported before, and that import is returned. */
  async import(
    upload: AdvisoryUpload,
    caller: Caller,
  ): Promise<{ created: boolean; view: AdvisoryImportView }> {
    const sha256 = createHash('sha256').update(upload.bytes).digest('hex');
    const known = await this.repo.importBySha(sha256);
    if (known) return { created: false, view: AdvisoryImportView.of(known) };
    try {
      const imported = await this.repo.transaction(async ({ manager: m }) => {
        await this.repo.lockImports(m);
        const again = await this.repo.importBySha(sha256, m);
        if (again) return { created: false, verifying: false, view: AdvisoryImportView.of(again) };
        const source =
          upload.kind === 'zip'
            ? `application/zip${upload.fileName ? ` ${upload.fileName}` : ''}`
            : 'application/json';
        const { id, seq } = await this.repo.startImport(sha256, source, caller.actor, m);
        const docs =
          upload.kind === 'zip' ? zipUploadDocuments(upload.bytes) : jsonUploadDocuments(upload.body);
        const counts = await this.store(docs, id, m);
        await this.repo.finishImport(id, counts, m);
        // What is promoted is re-judged against the advisories this import added or changed.
        const verifying = counts.added + counts.updated > 0;
        if (verifying) await this.verification.queue(m, { trigger: 'advisories', importId: id });
        await this.audit.record(
          {
            actor: caller.actor,
            action: 'advisories.imported',
            subjectType: 'advisory_import',
            subjectId: id,
            details: { seq, sha256, source, ...counts },
          },
          m,
        );
        const row = await this.repo.importBySha(sha256, m);
        return { created: true, verifying, view: AdvisoryImportView.of(row as AdvisoryImportEntity) };
      });
      if (imported.verifying) this.wakeups.wake(OUTBOX_TOPIC);
      return { created: imported.created, view: imported.view };
    } catch (e) {
      if (e instanceof OsvUploadError)
        throw new DomainError(ErrorCode.InvalidAdvisories, e.message, { problems: [e.message] });
      // Two uploads of the same new bytes at once: the loser sees the winner's import.
      if (e instanceof DomainError && e.code === ErrorCode.Conflict) {
        const winner = await this.repo.importBySha(sha256);
        if (winner) return { created: false, view: AdvisoryImportView.of(winner) };
      }
      throw e;
    }
  }

  private async store(
    docs: Iterable<OsvUploadDocument> | AsyncIterable<OsvUploadDocument>,
    importId: string,
    m: EntityManager,
  ): Promise<UpsertCounts & { documents: number }> {
    const totals = { documents: 0, added: 0, updated: 0, unchanged: 0 };
    const problems: string[] = [];
    let batch = new Map<string, StorableAdvisory>();
    let batchBytes = 0;
    const flush = async () => {
      const r = await this.repo.upsertBatch([...batch.values()], importId, m);
      totals.added += r.added;
      totals.updated += r.updated;
      totals.unchanged += r.unchanged;
      batch = new Map();
      batchBytes = 0;
    };
    for await (const { where, doc, bytes } of docs) {
      totals.documents += 1;
      const found = osvProblems(doc);
      if (found.length) {
        problems.push(...found.map((p) => `${where}: ${p}`));
        // Keep reading to report more than the first mistake, within reason.
        if (problems.length >= MAX_PROBLEMS) break;
        continue;
      }
      if (problems.length) continue;
      const a = storable(doc as OsvAdvisory);
      const twin = batch.get(a.id);
      // The same id twice in one upload: the newer version is the one that counts.
      if (!twin || Date.parse(twin.modified) < Date.parse(a.modified)) batch.set(a.id, a);
      if (twin) totals.unchanged += 1;
      batchBytes += bytes;
      if (batch.size >= BATCH || batchBytes >= BATCH_BYTES) await flush();
    }
    if (problems.length) {
      throw new DomainError(
        ErrorCode.InvalidAdvisories,
        `the upload is not valid OSV; nothing was imported: ${problems.slice(0, 3).join('; ')}`,
        { problems: problems.slice(0, MAX_PROBLEMS) },
      );
    }
    if (totals.documents === 0)
      throw new DomainError(ErrorCode.InvalidAdvisories, 'the upload holds no OSV documents', {
        problems: [],
      });
    await flush();
    return totals;
  }

  async get(id: string): Promise<AdvisoryImportView> {
    const row = /^[0-9a-f-]{36}$/.test(id) ? await this.repo.importById(id) : null;
    if (!row) throw notFound('advisory import', id);
    return AdvisoryImportView.of(row);
  }

  /** Newest first. */
  async list(cursor: string | undefined, limit: number): Promise<Page<AdvisoryImportView>> {
    const after = decodeCursor(cursor, ['seq']);
    const seq = after && /^[0-9]{1,9}$/.test(after.seq) ? Number(after.seq) : undefined;
    if (after && seq === undefined)
      throw new DomainError(ErrorCode.ValidationFailed, 'cursor: not a cursor this API issued', {
        field: 'cursor',
      });
    const rows = await this.repo.listImports(seq, limit + 1);
    return toPage(
      rows,
      limit,
      (r) => AdvisoryImportView.of(r),
      (r) => ({ seq: String(r.seq) }),
    );
  }

  async advisory(id: string): Promise<AdvisoryView> {
    const row = await this.repo.advisory(id);
    if (!row) throw notFound('advisory', id);
    return AdvisoryView.of(row);
  }
}
