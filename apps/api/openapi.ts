import { type INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { addWebhooks } from './openapi-webhooks';

const PROBLEM_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string', description: 'Stable machine-readable error code' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
    details: { type: 'object', additionalProperties: true },
  },
};

/** Every tag the controllers use, described once (a linter refuses tags that are not). */
const TAGS: ReadonlyArray<readonly [string, string]> = [
  ['promotions', 'Requests to promote an artifact into an environment, and their lifecycle'],
  ['approvals', 'Approvals, break-glass and its reviews, identity links (separation of duties)'],
  ['environments', 'Environments and their versioned policies'],
  ['changes', 'Proposed trust changes awaiting a second admin (four eyes)'],
  ['identity', 'Who the caller is; trusted issuers and role bindings'],
  ['advisories', 'OSV advisories imported for vulnerability checks'],
  ['audit', 'The hash-chained audit trail, its verification, export and signed checkpoints'],
  ['artifacts', 'Where a digest stands across the environments of a chain'],
  ['webhooks', 'Signed webhook subscriptions (Standard Webhooks) and their deliveries'],
  [
    'waivers',
    'Exceptions that let one named check or finding pass, granted by a second person, until they expire',
  ],
  ['drift', "Whether an environment's target registry still holds what Airlock promoted"],
  ['verification', 'What is promoted, re-judged when advisories or policies change'],
  ['keys', "Airlock's public keys (attestations and checkpoints)"],
  ['operations', 'Health, readiness and metrics'],
];

/** The OpenAPI document, built from the controllers' decorators. */
export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Airlock')
    .setDescription(
      'Promotion control plane: request promotions of OCI artifacts pinned by digest, collect evidence and approvals, audit everything. Errors are application/problem+json.',
    )
    .setVersion('1')
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    .addServer('/', 'This Airlock deployment')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description:
        "An OIDC token from a trusted issuer: a CI job's workload token (GitHub Actions, GitLab id_tokens) or a person's token.",
    })
    .addSecurityRequirements('bearer')
    .build();
  for (const [name, description] of TAGS) config.tags = [...(config.tags ?? []), { name, description }];
  const doc = SwaggerModule.createDocument(app, config);
  doc.components = { ...doc.components, schemas: { ...doc.components?.schemas, Problem: PROBLEM_SCHEMA } };
  return addWebhooks(doc);
}
