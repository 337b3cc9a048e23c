import { stringOption, UsageError } from '../args';
import { readPublicKey } from '../audit-files';
import { type CommandSpec } from '../command';
import { readTokenFile } from '../config';
import {
  assertUsableKey,
  checkImageAttestation,
  exitCodeForReport,
  formatAttestationReport,
  parseImageReference,
} from '../image-attestation';

export const verifyAttestation: CommandSpec = {
  name: 'verify-attestation',
  summary: "verify Airlock's signed attestation on a promoted image (talks only to the registry)",
  usage: '<registry/repository@sha256:…> --public-key <airlock.pem> [--insecure] [--registry-token-file f]',
  positionals: ['image'],
  options: {
    'public-key': { type: 'string' },
    insecure: { type: 'boolean' },
    'registry-token-file': { type: 'string' },
  },
  optionHelp: [
    ['--public-key <airlock.pem>', "Airlock's signing public key (PEM); obtain it independently"],
    ['--insecure', 'plain http to the registry (loopback and tests only)'],
    ['--registry-token-file <f>', 'a registry bearer token, read from a file (default: anonymous)'],
  ],
  details: [
    "Reads the image's cosign attestation (tag sha256-<hex>.att) and verifies the DSSE signatures",
    "of Airlock's promotion attestation (https://airlock.dev/attestations/promotion/v1) and",
    'verification summary (https://slsa.dev/verification_summary/v1) with --public-key, and that',
    'both are about the image digest. The Airlock server is not contacted.',
    'The key is the one GET /v1/audit/checkpoints returns as publicKey (`airlock audit checkpoints',
    '--public-key-out`); keep a copy the server cannot change.',
    'Exit 0 when both verify, 7 when either is missing or does not verify, 1 when verification',
    'could not run (registry unreachable or refusing, image not found, bad arguments).',
  ],
  async run(ctx, { values, positionals }) {
    for (const flag of ['token', 'token-file'] as const) {
      if (values[flag] !== undefined) {
        throw new UsageError(
          `--${flag} is the Airlock API token; verify-attestation talks only to the registry (use --registry-token-file)`,
        );
      }
    }
    const ref = parseImageReference(positionals[0]);
    const keyFile = stringOption(values, 'public-key');
    if (keyFile === undefined || keyFile === '') throw new UsageError('--public-key is required');
    const publicKey = await readPublicKey(keyFile);
    assertUsableKey(publicKey, keyFile);
    const tokenFile = stringOption(values, 'registry-token-file');
    let bearerToken: string | undefined;
    if (tokenFile !== undefined) {
      bearerToken = await readTokenFile(tokenFile, `--registry-token-file ${tokenFile}`);
      ctx.out.addSecret(bearerToken);
    }
    const registry = ctx.registry({
      host: ref.registry,
      insecure: values.insecure === true,
      ...(bearerToken !== undefined ? { credentials: { bearerToken } } : {}),
    });
    try {
      const report = await checkImageAttestation(registry, ref, publicKey);
      if (ctx.json) ctx.out.json(report);
      else ctx.out.lines(formatAttestationReport(report));
      return exitCodeForReport(report);
    } finally {
      registry.close();
    }
  },
};
