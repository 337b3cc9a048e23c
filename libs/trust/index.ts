export * from './signing-key';
export * from './trust.module';
