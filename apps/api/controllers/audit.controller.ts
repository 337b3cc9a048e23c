import { Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { type FastifyReply } from 'fastify';
import { AuditService, decodeCursor, DomainError, encodeCursor, ErrorCode, Role } from '../../../libs/core';
import { Roles } from '../auth/auth.decorators';
import { ApiProblems } from '../http/api-problems.decorator';
import { AuditCheckpointsView, AuditCheckpointView, AuditEventView, pageOf } from '../http/response-views';

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

const AUDIT_READERS = [Role.Auditor, Role.Admin];

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @ApiOperation({
    operationId: 'listAuditEvents',
    summary: 'List audit events',
    description: 'The hash-chained audit trail, newest first, filtered and paged with `cursor`.',
  })
  @Get()
  @Roles(AUDIT_READERS, 'global')
  @ApiOkResponse({ type: pageOf(AuditEventView, 'AuditEventPage') })
  @ApiProblems(400, 403)
  async list(@Query() q: AuditQueryDto): Promise<{ items: unknown[]; nextCursor: string | null }> {
    const limit = q.limit ?? 100;
    const after = decodeCursor(q.cursor, ['seq'] as const);
    if (after && !/^\d{1,19}$/.test(after.seq)) {
      throw new DomainError(ErrorCode.ValidationFailed, 'cursor: not a cursor this API issued', {
        field: 'cursor',
      });
    }
    const rows = await this.audit.list({ ...q, afterSeq: after?.seq, limit: limit + 1 });
    const items = rows.slice(0, limit);
    return {
      items,
      nextCursor: rows.length > limit ? encodeCursor({ seq: items[items.length - 1].seq }) : null,
    };
  }

  /** Walks the whole chain and every signed checkpoint; reports the head and the first broken link. */
  @ApiOperation({
    operationId: 'verifyAuditChain',
    summary: 'Verify the audit chain',
    description:
      'Walks the hash chain and compares it with the signed checkpoints; reports the first broken sequence if any.',
  })
  @Get('verify')
  @Roles(AUDIT_READERS, 'global')
  @ApiOkResponse({ description: 'The verification report (ok false when anything is broken)' })
  @ApiProblems(403)
  verify(): Promise<unknown> {
    return this.audit.verify();
  }

  /** The chain as JSON lines, for offline verification with `airlock-audit-verify`. */
  @ApiOperation({
    operationId: 'exportAuditEvents',
    summary: 'Export the audit trail',
    description:
      'Streams every event as JSON lines (application/x-ndjson), oldest first, for offline verification with `airlock audit verify --file`.',
  })
  @Get('export')
  @Roles(AUDIT_READERS, 'global')
  @ApiOkResponse({
    description: 'One chain link (an AuditEvent) per line, oldest first',
    content: { 'application/x-ndjson': { schema: { type: 'string' } } },
  })
  @ApiProblems(403)
  async export(@Res() reply: FastifyReply): Promise<void> {
    const lines = this.audit.allLinks();
    async function* ndjson(): AsyncGenerator<string> {
      for await (const link of lines) yield `${JSON.stringify(link)}\n`;
    }
    const { Readable } = await import('node:stream');
    await reply
      .header('content-type', 'application/x-ndjson')
      .header('content-disposition', 'attachment; filename="airlock-audit.jsonl"')
      .send(Readable.from(ndjson()));
  }

  @ApiOperation({
    operationId: 'listAuditCheckpoints',
    summary: 'List signed audit checkpoints',
    description:
      "Checkpoints (sequence, head hash, time) signed by Airlock's key, and the public key that verifies them.",
  })
  @Get('checkpoints')
  @Roles(AUDIT_READERS, 'global')
  @ApiOkResponse({ type: AuditCheckpointsView })
  @ApiProblems(403)
  async checkpoints(): Promise<{ publicKey: string; items: unknown[] }> {
    return { publicKey: this.audit.publicKeyPem, items: await this.audit.listCheckpoints() };
  }

  /** Signs the current head now (checkpoints are also made at an interval by the worker). */
  @ApiOperation({
    operationId: 'createAuditCheckpoint',
    summary: 'Sign an audit checkpoint now',
    description:
      'Seals pending events and signs the current head (the worker also does this at an interval).',
  })
  @Post('checkpoints')
  @HttpCode(201)
  @Roles(AUDIT_READERS, 'global')
  @ApiCreatedResponse({ type: AuditCheckpointView, description: 'The checkpoint just signed' })
  @ApiProblems(403)
  checkpoint(): Promise<unknown> {
    return this.audit.checkpoint();
  }
}
