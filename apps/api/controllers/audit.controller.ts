import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEnum, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { type FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import {
  AuditService,
  type AuditVerificationView,
  AuditVerificationService,
  AuditVerificationStatus,
  type Caller,
  decodeCursor,
  DomainError,
  encodeCursor,
  ErrorCode,
  Role,
  VerificationStart,
} from '../../../libs/core';
import { type ChainLink } from '../../../libs/domain';
import { CurrentCaller, Roles } from '../auth/auth.decorators';
import { ApiProblems } from '../http/api-problems.decorator';
import {
  AuditCheckpointsView,
  AuditCheckpointView,
  AuditEventPage,
  AuditVerificationList,
  AuditVerificationReportView,
  AuditVerificationResource,
} from '../http/response-views';
import { uuidPipe } from './promotions.controller';

class AuditQueryDto {
  @ApiPropertyOptional({ example: 'promotion.approved' })
  @IsOptional()
  @Matches(/^[a-z_.]{1,64}$/, { message: 'action must be an action name like promotion.approved' })
  action?: string;

  @ApiPropertyOptional({ description: 'Actor identity (subject@issuer)' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  actor?: string;

  @ApiPropertyOptional({ example: 'promotion' })
  @IsOptional()
  @Matches(/^[a-z_]{1,64}$/, { message: 'subjectType must be lowercase letters and underscores' })
  subjectType?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(256)
  subjectId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(600)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

class StartVerificationDto {
  @ApiPropertyOptional({
    enum: VerificationStart,
    default: VerificationStart.Checkpoint,
    description:
      'checkpoint: walk only what came after the newest checkpoint an earlier verification proved ' +
      '(the genesis when there is none); genesis: the full walk',
  })
  @IsOptional()
  @IsEnum(VerificationStart)
  start?: VerificationStart;
}

class ListVerificationsDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

class ExportQueryDto {
  @ApiPropertyOptional({ description: 'First seq to export (default 1, the genesis)' })
  @IsOptional()
  @Matches(/^[1-9]\d{0,18}$/, { message: 'fromSeq must be a positive sequence number' })
  fromSeq?: string;

  @ApiPropertyOptional({
    description:
      'Start at the link of this signed checkpoint (its seq), included so that an offline verifier ' +
      'anchors the partial export to the checkpoint',
  })
  @IsOptional()
  @Matches(/^[1-9]\d{0,18}$/, { message: 'checkpoint must be the seq of a checkpoint' })
  checkpoint?: string;

  @ApiPropertyOptional({ enum: ['gzip'], description: 'gzip: the body is application/gzip' })
  @IsOptional()
  @IsIn(['gzip'])
  compress?: 'gzip';
}

const AUDIT_READERS = [Role.Auditor, Role.Admin];

/** A verification's report in the shape GET /v1/audit/verify always had, with what is pending. */
function legacyReport(v: AuditVerificationView): Record<string, unknown> {
  if (v.status !== AuditVerificationStatus.Completed || !v.report) {
    throw new DomainError(
      ErrorCode.DatabaseUnavailable,
      `the verification could not finish: ${v.error ?? v.status}`,
      {
        verification: v.id,
      },
    );
  }
  return { ...v.report, pending: v.pendingAtStart };
}

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly verifications: AuditVerificationService,
  ) {}

  @ApiOperation({
    operationId: 'listAuditEvents',
    summary: 'List audit events',
    description:
      'The hash-chained audit trail (sealed events), newest first, filtered and paged with `cursor`; says how many events are still pending sealing.',
  })
  @Get()
  @Roles(AUDIT_READERS, 'global')
  @ApiProblems(400, 403)
  @ApiOkResponse({ type: AuditEventPage })
  async list(
    @Query() q: AuditQueryDto,
  ): Promise<{ items: unknown[]; nextCursor: string | null; pending: number }> {
    const limit = q.limit ?? 100;
    const after = decodeCursor(q.cursor, ['seq'] as const);
    if (after && !/^\d{1,19}$/.test(after.seq)) {
      throw new DomainError(ErrorCode.ValidationFailed, 'cursor: not a cursor this API issued', {
        field: 'cursor',
      });
    }
    const { items: rows, pending } = await this.audit.list({ ...q, afterSeq: after?.seq, limit: limit + 1 });
    const items = rows.slice(0, limit);
    return {
      items,
      nextCursor: rows.length > limit ? encodeCursor({ seq: items[items.length - 1].seq }) : null,
      pending,
    };
  }

  /**
   * Compatibility: a full walk from the genesis, waited for, in the report shape this route always
   * had (plus `pending`). The walk runs in the worker unless the chain is short; a client that goes
   * away cancels it. Prefer POST /v1/audit/verifications (incremental, polled).
   */
  @ApiOperation({
    operationId: 'verifyAuditChain',
    summary: 'Verify the whole audit chain (compatibility)',
    description:
      'A full walk from the first event, waited for: the hash chain compared with the signed checkpoints, reporting the first broken sequence if any. Runs in the worker unless the chain is short. Prefer POST /v1/audit/verifications.',
  })
  @Get('verify')
  @Roles(AUDIT_READERS, 'global')
  @ApiOkResponse({
    type: AuditVerificationReportView,
    description: 'The verification report (ok false when anything is broken)',
  })
  @ApiProblems(403)
  async verify(
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    const gone = new AbortController();
    const onClose = (): void => {
      if (!reply.raw.writableFinished) gone.abort();
    };
    reply.raw.once('close', onClose);
    try {
      return legacyReport(await this.verifications.verifyAndWait(caller.actor, gone.signal));
    } finally {
      reply.raw.off('close', onClose);
    }
  }

  /**
   * Starts a verification: incremental from the newest proven checkpoint unless `start` is
   * `genesis`. A short range is walked at once (201, finished); a long one runs in the worker
   * (202): poll GET /v1/audit/verifications/{id}. A walk nobody polls stops.
   */
  @ApiOperation({
    operationId: 'startAuditVerification',
    summary: 'Verify the audit chain (recorded)',
    description:
      'Starts a verification: incremental from the newest proven checkpoint, or a full walk from the first event. Short ranges answer at once (201); longer ones run in the worker (202) with progress to follow.',
  })
  @Post('verifications')
  @Roles(AUDIT_READERS, 'global')
  @ApiCreatedResponse({
    type: AuditVerificationResource,
    description: 'Walked inline: the finished verification',
  })
  @ApiAcceptedResponse({
    type: AuditVerificationResource,
    description: 'Queued for the worker: poll the verification for progress and result',
  })
  @ApiProblems(400, 403)
  async startVerification(
    @Body() dto: StartVerificationDto,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AuditVerificationView> {
    const { verification, inline } = await this.verifications.start(
      caller.actor,
      dto.start ?? VerificationStart.Checkpoint,
    );
    void reply.status(inline ? 201 : 202).header('location', `/v1/audit/verifications/${verification.id}`);
    return verification;
  }

  /** Recorded verifications, newest first: when the chain was last proven whole, and from where. */
  @ApiOperation({
    operationId: 'listAuditVerifications',
    summary: 'List audit verifications',
    description: 'Recorded verifications: range, result, duration; when the chain was last proven whole.',
  })
  @Get('verifications')
  @Roles(AUDIT_READERS, 'global')
  @ApiProblems(400, 403)
  @ApiOkResponse({ type: AuditVerificationList })
  async listVerifications(@Query() q: ListVerificationsDto): Promise<{ items: AuditVerificationView[] }> {
    return { items: await this.verifications.list(q.limit ?? 20) };
  }

  /** A verification's progress and, once completed, its result. Asking keeps a running walk alive. */
  @ApiOperation({
    operationId: 'getAuditVerification',
    summary: 'Get an audit verification',
    description: "A verification's progress and result.",
  })
  @Get('verifications/:id')
  @Roles(AUDIT_READERS, 'global')
  @ApiProblems(400, 403, 404)
  @ApiOkResponse({ type: AuditVerificationResource })
  getVerification(@Param('id', uuidPipe) id: string): Promise<AuditVerificationView> {
    return this.verifications.get(id);
  }

  /** Stops a verification: a queued one at once, a running one at its next page. */
  @ApiOperation({
    operationId: 'cancelAuditVerification',
    summary: 'Cancel an audit verification',
    description: 'Stops a verification still walking.',
  })
  @Post('verifications/:id/cancel')
  @HttpCode(200)
  @Roles(AUDIT_READERS, 'global')
  @ApiProblems(400, 403, 404)
  @ApiOkResponse({ type: AuditVerificationResource })
  cancelVerification(@Param('id', uuidPipe) id: string): Promise<AuditVerificationView> {
    return this.verifications.cancel(id);
  }

  /**
   * The sealed chain as JSON lines (for offline verification with `airlock audit verify --file`),
   * from `fromSeq` or from a checkpoint's link, up to the head when asked (headers say the range
   * and how many events are pending), optionally gzip-compressed.
   */
  @ApiOperation({
    operationId: 'exportAuditEvents',
    summary: 'Export the audit trail',
    description:
      'Streams sealed events as JSON lines, oldest first, from `fromSeq` or a checkpoint, optionally gzip-compressed, for offline verification with `airlock audit verify --file`. Headers give the range and the pending count.',
  })
  @Get('export')
  @Roles(AUDIT_READERS, 'global')
  @ApiOkResponse({
    description: 'application/x-ndjson (or application/gzip): one chain link per line, in order',
  })
  @ApiProblems(400, 403)
  async export(@Query() q: ExportQueryDto, @Res() reply: FastifyReply): Promise<void> {
    if (q.fromSeq !== undefined && q.checkpoint !== undefined) {
      throw new DomainError(ErrorCode.ValidationFailed, 'give fromSeq or checkpoint, not both', {
        field: 'checkpoint',
      });
    }
    let from = q.fromSeq ?? '1';
    if (q.checkpoint !== undefined) {
      const checkpoints = await this.audit.listCheckpoints();
      if (!checkpoints.some((c) => c.seq === q.checkpoint)) {
        throw new DomainError(ErrorCode.NotFound, `no signed checkpoint at seq ${q.checkpoint}`, {
          checkpoint: q.checkpoint,
        });
      }
      from = q.checkpoint;
    }
    const [range, pending] = await Promise.all([this.audit.exportRange(from), this.audit.pendingCount()]);
    async function* ndjson(pages: AsyncIterable<ChainLink[]>): AsyncGenerator<string> {
      // One string per page: a million links are two hundred writes, not a million.
      for await (const page of pages) {
        let text = '';
        for (const link of page) text += `${JSON.stringify(link)}\n`;
        yield text;
      }
    }
    const body = Readable.from(ndjson(range.pages));
    const events =
      BigInt(range.headSeq) >= BigInt(range.fromSeq)
        ? BigInt(range.headSeq) - BigInt(range.fromSeq) + 1n
        : 0n;
    void reply
      .header('x-audit-from-seq', range.fromSeq)
      .header('x-audit-head-seq', range.headSeq)
      .header('x-audit-events', String(events))
      .header('x-audit-pending', String(pending));
    if (q.compress === 'gzip') {
      await reply
        .header('content-type', 'application/gzip')
        .header('content-disposition', 'attachment; filename="airlock-audit.jsonl.gz"')
        .send(body.pipe(createGzip({ level: 1 })));
      return;
    }
    await reply
      .header('content-type', 'application/x-ndjson')
      .header('content-disposition', 'attachment; filename="airlock-audit.jsonl"')
      .send(body);
  }

  @ApiOperation({
    operationId: 'listAuditCheckpoints',
    summary: 'List signed audit checkpoints',
    description:
      "Checkpoints (sequence, head hash, time) signed by Airlock's key, and the public key that verifies them.",
  })
  @Get('checkpoints')
  @Roles(AUDIT_READERS, 'global')
  @ApiProblems(403)
  @ApiOkResponse({ type: AuditCheckpointsView })
  async checkpoints(): Promise<{ publicKey: string; items: unknown[] }> {
    return { publicKey: this.audit.publicKeyPem, items: await this.audit.listCheckpoints() };
  }

  /** Signs the current head now (checkpoints are also made at an interval by the worker). */
  @ApiOperation({
    operationId: 'createAuditCheckpoint',
    summary: 'Sign an audit checkpoint now',
    description: 'Signs the current sealed head (the worker also does this at an interval).',
  })
  @Post('checkpoints')
  @HttpCode(201)
  @Roles(AUDIT_READERS, 'global')
  @ApiProblems(403)
  @ApiCreatedResponse({ type: AuditCheckpointView, description: 'The checkpoint just signed' })
  checkpoint(): Promise<unknown> {
    return this.audit.checkpoint();
  }
}
