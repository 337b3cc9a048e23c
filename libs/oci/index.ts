// The Nest module lives in './oci.module' (import it by path): keeping @nestjs/common out of this
// index lets plain code and jest tests use the client without loading Nest.
export * from './errors';
export * from './media-types';
export * from './registry-config';
export * from './digest-stream';
export * from './references';
export * from './manifest-parser';
export * from './referrers';
export * from './token-auth';
export * from './registry-client';
export * from './copier';
export * from './artifact-push';
export * from './image-copy';
export * from './process-protocol';
export * from './registry-process';
