export * from './package-identity';
export * from './sbom-packages';
export * from './license-policy';
