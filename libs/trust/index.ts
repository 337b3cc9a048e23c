// The Nest module lives in ./trust.module (import it by path): this index stays free of Nest, so
// plain code, the CLI and jest tests can use the verifiers.
export * from './signing-key';
export * from './previous-keys';
export * from '../domain/trust-policy';
export * from './trust-findings';
export {
  COSIGN_BUNDLE,
  COSIGN_CERTIFICATE,
  COSIGN_CHAIN,
  COSIGN_RFC3161,
  COSIGN_SIGNATURE,
  type TrustInput,
} from './signer-trust';
export * from './cosign-signature.verifier';
export * from './sigstore-bundle.verifier';
export * from './attestation.verifier';
export { IN_TOTO_PAYLOAD_TYPE, type InTotoStatement } from './in-toto-statement';
export * from './promotion-attestation';
