// The provider rules compiled once, at load: a pattern RE2 cannot compile stops the process here
// rather than in the middle of a scan.
import { PROVIDER_RULES } from './provider-rules';
import { compileSecretRules, type CompiledSecretRule } from './secret-rule';

/** The set name, the first half of a provider rule's finding id (`provider/github-pat`). */
export const PROVIDER_SET = 'provider';

export const PROVIDER_RULE_SET: readonly CompiledSecretRule[] = compileSecretRules(
  PROVIDER_SET,
  PROVIDER_RULES,
);
