import { type OpenAPIObject } from '@nestjs/swagger';
import {
  chatMessage,
  type EventFacts,
  type StoredEvent,
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_EVENTS,
  WEBHOOK_PAYLOAD_VERSION,
  webhookPayload,
} from '../../libs/domain';

/** Facts of an example promotion, for the documented examples (built by the real payload builders). */
const EXAMPLE: EventFacts = {
  actor: { kind: 'human', issuer: 'https://id.example.com', subject: 'alice' },
  promotion: {
    id: '0f8fad5b-d9cb-469f-a165-70867728950e',
    environmentId: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
    environment: 'production',
    sourceRegistry: 'registry.staging.example.com',
    sourceRepository: 'acme/app',
    digest: `sha256:${'3b'.repeat(32)}`,
    tag: 'v1.4.2',
    targetRegistry: 'registry.prod.example.com',
    targetRepository: 'prod/acme/app',
    status: 'promoted',
    reasons: ['approved by alice@https://id.example.com'],
    breakGlass: false,
    requester: { kind: 'ci', issuer: 'https://ci.example.com', subject: 'repo:acme/app:ref:refs/heads/main' },
    attestation: {
      reference: `registry.prod.example.com/prod/acme/app:sha256-${'3b'.repeat(32)}.att`,
      digest: `sha256:${'9a'.repeat(32)}`,
    },
  },
  transition: { from: 'promoting', to: 'promoted', reason: 'promoted' },
  approvals: { rules: [{ name: 'release', required: 1, groups: ['release-managers'] }] },
  details: {
    environment: 'production',
    version: 4,
    sha256: 'c0'.repeat(32),
    reviewId: '9b2e3a10-64c2-4c7e-8a55-0d6f1c1d2e3f',
    promotionId: '0f8fad5b-d9cb-469f-a165-70867728950e',
    findings: 2,
    rules: ['aws/AWSAccessKeyID', 'privatekey/PrivateKey'],
  },
};

const link = (path: string): string => `https://airlock.example.com${path}`;

const HEADERS = [
  {
    name: 'webhook-id',
    in: 'header',
    required: true,
    description: 'The delivery’s id: the same on every retry and re-send; de-duplicate on it',
    schema: { type: 'string', example: 'msg_5d3e1a52-8f1c-4b8e-9d4a-2f4f5b6c7d8e' },
  },
  {
    name: 'webhook-timestamp',
    in: 'header',
    required: true,
    description: 'Seconds since the epoch when this attempt was signed; refuse ones far from now',
    schema: { type: 'string', example: '1767139200' },
  },
  {
    name: 'webhook-signature',
    in: 'header',
    required: true,
    description:
      'Space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` signatures (Standard Webhooks), ' +
      'keyed with the base64 part of the `whsec_` secret; two during a secret rotation’s grace period',
    schema: { type: 'string' },
  },
];

const EVENT_SCHEMA = {
  type: 'object',
  required: ['type', 'version', 'eventId', 'timestamp', 'data'],
  description:
    'A webhook event (Standard Webhooks payload shape). Small: identifiers, states, reasons and links back to the API; never a secret or token.',
  properties: {
    type: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] },
    version: {
      type: 'integer',
      enum: [WEBHOOK_PAYLOAD_VERSION],
      description: 'Payload format version; raised only for changes a receiver could trip over',
    },
    eventId: {
      type: 'string',
      description: 'The event (one event may be delivered to several subscriptions)',
    },
    timestamp: { type: 'string', format: 'date-time', description: 'When the event happened (its commit)' },
    data: { type: 'object', additionalProperties: true, description: 'Event-specific; see each event' },
  },
};

const CHAT_SCHEMA = {
  type: 'object',
  description: 'The `chat` format: a Slack-compatible incoming-webhook message (text, blocks with a link)',
  properties: { text: { type: 'string' }, blocks: { type: 'array', items: { type: 'object' } } },
};

/**
 * Adds the events Airlock sends to the document: one entry per event type, with its signed
 * headers and an example built by the same code that builds real deliveries. OpenAPI 3.1 calls
 * the section `webhooks`; the 3.0 document @nestjs/swagger writes carries it as `x-webhooks`
 * (the extension Redoc renders), and the schemas under components either way.
 */
export function addWebhooks(doc: OpenAPIObject): OpenAPIObject {
  const example = (type: (typeof WEBHOOK_EVENT_TYPES)[number]): StoredEvent => ({
    id: '1042',
    type,
    occurredAt: new Date('2026-12-01T12:00:00.000Z'),
    facts: EXAMPLE,
  });
  const webhooks = Object.fromEntries(
    WEBHOOK_EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          operationId: `webhook.${type}`,
          tags: ['webhooks'],
          summary: type,
          description: `${WEBHOOK_EVENTS[type].description} Subscribe with POST /v1/webhooks; answer 2xx within WEBHOOK_TIMEOUT_MS, or the delivery is retried with backoff for a day or more. Redirects are not followed.`,
          parameters: HEADERS,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  oneOf: [
                    { $ref: '#/components/schemas/WebhookEvent' },
                    { $ref: '#/components/schemas/WebhookChatMessage' },
                  ],
                },
                examples: {
                  standard: { summary: 'format: standard', value: webhookPayload(example(type), link) },
                  chat: { summary: 'format: chat', value: chatMessage(example(type), link) },
                },
              },
            },
          },
          responses: {
            '2XX': { description: 'Received. Anything else, or no answer in time, is retried.' },
          },
        },
      },
    ]),
  );
  const key = doc.openapi.startsWith('3.1') ? 'webhooks' : 'x-webhooks';
  return {
    ...doc,
    [key]: webhooks,
    components: {
      ...doc.components,
      schemas: { ...doc.components?.schemas, WebhookEvent: EVENT_SCHEMA, WebhookChatMessage: CHAT_SCHEMA },
    },
  };
}
