import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ArtifactView, PromotionGateService, Role } from '../../../libs/core';
import { Roles } from '../auth/auth.decorators';
import { ApiProblems } from '../http/api-problems.decorator';
import { DigestPipe } from './common';

@ApiTags('artifacts')
@ApiBearerAuth()
@Controller('v1/artifacts')
export class ArtifactsController {
  constructor(private readonly gate: PromotionGateService) {}

  /** Where a digest stands across the environments: its promotions per environment, with the chain. */
  @ApiOperation({
    operationId: 'getArtifact',
    summary: 'Where a digest stands across environments',
    description:
      'For one digest: its promotions in every environment (status, when, kind), so the path through the chain is visible.',
  })
  @Get(':digest')
  @Roles([Role.Requester, Role.Approver, Role.Admin, Role.Auditor])
  @ApiOkResponse({ type: ArtifactView })
  @ApiProblems(400, 403)
  get(@Param('digest', DigestPipe) digest: string): Promise<ArtifactView> {
    return this.gate.artifact(digest);
  }
}
