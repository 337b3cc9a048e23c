export * from './layer-reader';
export * from './secret-rules';
export * from './secret-scanner';
export * from './secret-scan';
export * from './scan-version';
