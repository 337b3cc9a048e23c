// The provider rules, their regexes compiled on first use (CompileOptions.lazy): a process holds
// only the RE2 programs it ran. provider-rules.spec.ts compiles and checks every pattern, so none
// can fail in the middle of a scan.
import { PROVIDER_RULES } from './provider-rules';
import { compileSecretRules, type CompiledSecretRule } from './secret-rule';

/** The set name, the first half of a provider rule's finding id (`provider/github-pat`). */
export const PROVIDER_SET = 'provider';

export const PROVIDER_RULE_SET: readonly CompiledSecretRule[] = compileSecretRules(
  PROVIDER_SET,
  PROVIDER_RULES,
  { lazy: true },
);
