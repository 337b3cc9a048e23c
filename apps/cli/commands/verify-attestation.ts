import { stringOption, UsageError } from '../args';
import { readVerificationKeys } from '../audit-files';
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
  usage:
    '<registry/repository@sha256:…> (--keys keys.json | --public-key airlock.pem) [--insecure] [--registry-token-file f]',
  positionals: ['image'],
  options: {
    keys: { type: 'string' },
    'public-key': { type: 'string' },
    insecure: { type: 'boolean' },
    'registry-token-file': { type: 'string' },
  },
  optionHelp: [
    [
      '--keys <keys.json>',
      "Airlock's key set (from `airlock keys`): the key is chosen by the envelope's keyid",
    ],
    ['--public-key <airlock.pem>', "one of Airlock's public keys (PEM) instead of the set"],
    ['--insecure', 'plain http to the registry (loopback and tests only)'],
    ['--registry-token-file <f>', 'a registry bearer token, read from a file (default: anonymous)'],
  ],
  details: [
    "Reads the image's cosign attestation (tag sha256-<hex>.att) and verifies the DSSE signatures",
    "of Airlock's promotion attestation (https://airlock.dev/attestations/promotion/v1) and",
    'verification summary (https://slsa.dev/verification_summary/v1) with --public-key, and that',
    'both are about the image digest. The Airlock server is not contacted.',
    'Each envelope names its key (keyid); with --keys that key must be in the set and valid at the',
    "statement's date, so attestations signed before a key rotation still verify. Get the set with",
    '`airlock keys --out keys.json` and keep a copy the server cannot change.',
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
    const keysFile = stringOption(values, 'keys');
    if (keyFile === '' || keysFile === '' || (keyFile === undefined && keysFile === undefined)) {
      throw new UsageError('--keys (or --public-key) is required');
    }
    const keys = await readVerificationKeys(keysFile, keyFile);
    if (keys === undefined) throw new UsageError('--keys (or --public-key) is required');
    for (const k of keys.keys) assertUsableKey(k.publicKeyPem, keysFile ?? keyFile ?? '');
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
      const report = await checkImageAttestation(registry, ref, keys);
      if (ctx.json) ctx.out.json(report);
      else ctx.out.lines(formatAttestationReport(report));
      return exitCodeForReport(report);
    } finally {
      registry.close();
    }
  },
};
