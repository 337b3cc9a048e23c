import { Body, Controller, Get, Headers, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { type FastifyReply } from 'fastify';
import {
  AdvisoryImportService,
  AdvisoryImportView,
  AdvisoryView,
  type Caller,
  DomainError,
  ErrorCode,
  Role,
} from '../../../libs/core';
import { CurrentCaller, Roles } from '../auth/auth.decorators';
import { ApiProblems } from '../http/api-problems.decorator';
import { pageOf } from '../http/response-views';
import { PageQuery } from './common';
import { uuidPipe } from './promotions.controller';

const ANY_ROLE = [Role.Requester, Role.Approver, Role.Admin, Role.Auditor];
const ADVISORY_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const FILE_NAME = /^[A-Za-z0-9._-]{1,200}$/;

@ApiTags('advisories')
@ApiBearerAuth()
@Controller('v1/advisories')
export class AdvisoriesController {
  constructor(private readonly imports: AdvisoryImportService) {}

  /**
   * One OSV document or a JSON array of them (application/json, within the API's body limit), or
   * a zip archive of OSV JSON files as osv.dev publishes them (application/zip). All or nothing;
   * the same bytes twice answer 200 with the first import.
   */
  @ApiOperation({
    operationId: 'importAdvisories',
    summary: 'Import an OSV advisory archive',
    description:
      'Uploads an OSV zip (as osv.dev publishes per ecosystem) or JSON. The same bytes twice import once. Admin only; audited. Matching uses the imported advisories from the next check stage on.',
  })
  @Post('imports')
  @Roles([Role.Admin], 'global')
  @ApiConsumes('application/json', 'application/zip')
  @ApiBody({ description: 'An OSV document, an array of them, or a zip of OSV JSON files', schema: {} })
  @ApiCreatedResponse({
    type: AdvisoryImportView,
    description: 'Imported; 200 when these bytes were imported before',
  })
  @ApiProblems(400, 403, 413, 415, 422)
  async create(
    @Body() body: unknown,
    @Headers('x-file-name') fileName: string | undefined,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AdvisoryImportView> {
    if (fileName !== undefined && !FILE_NAME.test(fileName)) {
      throw new DomainError(ErrorCode.ValidationFailed, 'x-file-name: letters, digits, . _ - only', {
        field: 'x-file-name',
      });
    }
    const r = await this.imports.import(AdvisoryImportService.uploadOf(body, fileName), caller);
    void reply.status(r.created ? 201 : 200);
    return r.view;
  }

  @ApiOperation({
    operationId: 'listAdvisoryImports',
    summary: 'List advisory imports',
    description: 'Newest first, paged with `cursor`.',
  })
  @Get('imports')
  @Roles(ANY_ROLE)
  @ApiOkResponse({ type: pageOf(AdvisoryImportView, 'AdvisoryImportPage') })
  @ApiProblems(400, 403)
  list(@Query() q: PageQuery): Promise<{ items: AdvisoryImportView[]; nextCursor: string | null }> {
    return this.imports.list(q.cursor, q.limit ?? 50);
  }

  @ApiOperation({
    operationId: 'getAdvisoryImport',
    summary: 'Get an advisory import',
    description: 'Counts of advisories added, changed and unchanged, and any entries refused with why.',
  })
  @Get('imports/:id')
  @Roles(ANY_ROLE)
  @ApiOkResponse({ type: AdvisoryImportView })
  @ApiProblems(400, 403, 404)
  get(@Param('id', uuidPipe) id: string): Promise<AdvisoryImportView> {
    return this.imports.get(id);
  }

  @ApiOperation({
    operationId: 'getAdvisory',
    summary: 'Get an advisory',
    description:
      'An imported OSV advisory by its id (GHSA-\u2026, CVE-\u2026, PYSEC-\u2026), with its affected ranges.',
  })
  @Get(':id')
  @Roles(ANY_ROLE)
  @ApiOkResponse({ type: AdvisoryView })
  @ApiProblems(400, 403, 404)
  advisory(@Param('id') id: string): Promise<AdvisoryView> {
    if (!ADVISORY_ID.test(id)) {
      throw new DomainError(ErrorCode.ValidationFailed, 'id: not an advisory id', { field: 'id' });
    }
    return this.imports.advisory(id);
  }
}
