import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type Caller, Role, VerificationService, VerificationView } from '../../../libs/core';
import { CurrentCaller, Roles } from '../auth/auth.decorators';
import { ApiProblems } from '../http/api-problems.decorator';
import { NamePipe, requireEnvironmentRole } from './common';

/** Like drift: the people who answer for the environment read what it carries. */
const MAY_READ = [Role.Admin, Role.Approver, Role.Auditor];

@ApiTags('verification')
@ApiBearerAuth()
@Controller('v1/environments/:name')
export class VerificationController {
  constructor(private readonly verification: VerificationService) {}

  /**
   * What the digests promoted in the environment are found to carry now, judged again after each
   * advisory import and policy activation from the evidence stored when they were checked.
   */
  @ApiOperation({
    operationId: 'getEnvironmentVerification',
    summary: 'Continuous verification of what is promoted',
    description:
      "What re-judging the environment's promoted digests found after advisory imports and policy activations, from stored evidence: digests now affected by an advisory, with fixed versions where there are.",
  })
  @Get('verification')
  @Roles(MAY_READ)
  @ApiOkResponse({ type: VerificationView })
  @ApiProblems(400, 403, 404)
  view(@Param('name', NamePipe) name: string, @CurrentCaller() caller: Caller): Promise<VerificationView> {
    requireEnvironmentRole(caller, name, MAY_READ);
    return this.verification.view(name);
  }
}
