import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  DomainError,
  ErrorCode,
  type PublishedKeySet,
  SIGNING_KEY_ALGORITHM,
  VerificationKeys,
} from '../../../libs/domain';
import { Public } from '../auth/auth.decorators';

class PublishedKeyView {
  @ApiProperty({
    description:
      'SHA-256 fingerprint of the key in SSH form (`SHA256:<base64>`, as `ssh-keygen -l` prints it): what checkpoints name as keyId and attestation DSSE envelopes as keyid',
    example: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
  })
  keyId!: string;

  @ApiProperty({ enum: [SIGNING_KEY_ALGORITHM], description: 'ECDSA P-256 with SHA-256 (DER signatures)' })
  algorithm!: string;

  @ApiProperty({ description: 'PEM SubjectPublicKeyInfo' })
  publicKey!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    format: 'date-time',
    description: 'Signatures dated earlier are not accepted from this key (null: no lower bound)',
  })
  notBefore!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    format: 'date-time',
    description: 'Signatures dated later are not accepted from this key (null: it still signs)',
  })
  notAfter!: string | null;

  @ApiProperty({ description: 'The key that signs now; the others only verify what they signed' })
  current!: boolean;

  @ApiProperty({
    description:
      'Hex SHA-256 of the DER SubjectPublicKeyInfo: the key id records signed before key ids were unified carry',
  })
  spkiSha256!: string;
}

class PublishedKeySetView {
  @ApiProperty({ type: [PublishedKeyView] }) keys!: PublishedKeyView[];
}

/**
 * Airlock's public keys: the one that signs checkpoints and attestations now and the earlier ones
 * still accepted for what they signed. Public, like a JWKS: verifiers fetch it without a token
 * (`airlock keys --out keys.json`) and should keep a copy the server cannot change.
 */
@ApiTags('keys')
@Public()
@Controller('v1/keys')
export class KeysController {
  constructor(private readonly keys: VerificationKeys) {}

  @ApiOperation({
    operationId: 'listKeys',
    summary: "List Airlock's public keys",
    description:
      'The keys that sign attestations and audit checkpoints (current and previous), by key id. Needs no token.',
    security: [],
  })
  @Get()
  @ApiOkResponse({ type: PublishedKeySetView, description: "Airlock's signing keys, current and previous" })
  @ApiResponse({
    status: 400,
    description: 'An unknown query parameter (the route takes none)',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  })
  list(@Query() query: Record<string, unknown>): PublishedKeySet {
    // The route takes no parameters; like every other route, it refuses the ones it does not know.
    const unknown = Object.keys(query);
    if (unknown.length > 0) {
      throw new DomainError(ErrorCode.ValidationFailed, `invalid request: ${unknown[0]}: unknown field`, {
        errors: unknown.map((field) => ({ field, message: `unknown field ${field}` })),
      });
    }
    return this.keys.published();
  }
}
