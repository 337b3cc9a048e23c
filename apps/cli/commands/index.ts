import { type CommandSpec } from '../command';
import { advisoriesImport } from './advisories';
import { approve, reject } from './approvals';
import { auditCheckpoints, auditExport, auditVerify, keys } from './audit';
import { auditCheckpoint } from './audit-checkpoint';
import { changesApprove, changesGet, changesList, changesReject } from './changes';
import { driftCheck, driftShow, verificationShow } from './drift';
import {
  environmentsCreate,
  environmentsGet,
  environmentsList,
  policiesActivate,
  policiesAdd,
  policiesDiff,
  policiesEvaluate,
  policiesGet,
  policiesList,
  waiversGrant,
  waiversList,
  waiversRequest,
  waiversRevoke,
} from './environments';
import { promote } from './promote';
import { cancel, promotionsGet, promotionsList } from './promotions';
import { history, rollback } from './rollback';
import { verifyAttestation } from './verify-attestation';
import { whoami } from './whoami';

/** Every command, in the order `airlock --help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  promote,
  rollback,
  history,
  promotionsGet,
  promotionsList,
  cancel,
  approve,
  reject,
  whoami,
  auditVerify,
  auditExport,
  auditCheckpoints,
  auditCheckpoint,
  keys,
  verifyAttestation,
  environmentsList,
  environmentsGet,
  environmentsCreate,
  policiesAdd,
  policiesActivate,
  policiesList,
  policiesGet,
  policiesDiff,
  policiesEvaluate,
  waiversList,
  waiversRequest,
  waiversGrant,
  waiversRevoke,
  changesList,
  changesGet,
  changesApprove,
  changesReject,
  advisoriesImport,
  driftCheck,
  driftShow,
  verificationShow,
];

/** Groups: the first word of two-word commands. */
export const GROUPS: ReadonlySet<string> = new Set(
  COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]),
);
