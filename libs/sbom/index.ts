export * from './package-identity';
export * from './sbom-packages';
export * from './license-policy';
export { validateSbomSchema, CYCLONEDX_SPEC_VERSIONS, SPDX_VERSIONS } from './sbom-schemas';
