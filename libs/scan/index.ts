export * from './layer-reader';
export * from './secret-rules';
export * from './secret-scanner';
export * from './secret-scan';
export * from './provider-rule-set';
export * from './secret-placeholders';
export * from './secret-rule';
export * from './gitleaks-rules';
