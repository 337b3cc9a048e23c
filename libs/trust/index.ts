export * from './signing-key';
export * from './trust.module';
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
