import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type AirlockConfig } from '../../../libs/config';
import { DomainError, ErrorCode } from '../../../libs/domain';

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether JSON text nests objects and arrays deeper than `max`. One pass over the characters, no
 * recursion and no parse: it runs before JSON.parse, so a body built to exhaust the stack of
 * whatever walks it later (class-transformer recurses per level) never becomes an object.
 * Brackets inside strings do not count. Malformed text is left for JSON.parse to refuse.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/**
 * The path of the first key that could reach an object's prototype when code later merges or
 * assigns the parsed value: `__proto__` anywhere, or `constructor` holding a `prototype`.
 * Iterative (the depth is already bounded, but nothing here should recurse on outside input).
 * Other Object.prototype names (`constructor: "x"`, `toString`) are plain unknown fields that the
 * validation pipe refuses by name.
 */
export function prototypeKeyPath(value: unknown): string | undefined {
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length) {
    const [node, path] = stack.pop() as [unknown, string];
    if (node === null || typeof node !== 'object') continue;
    for (const key of Object.keys(node)) {
      const here = path ? `${path}.${key}` : key;
      const child = (node as Record<string, unknown>)[key];
      if (key === '__proto__') return here;
      if (
        key === 'constructor' &&
        child !== null &&
        typeof child === 'object' &&
        Object.prototype.hasOwnProperty.call(child, 'prototype')
      ) {
        return `${here}.prototype`;
      }
      stack.push([child, here]);
    }
  }
  return undefined;
}

/** Text that may spell a prototype key, possibly with \u escapes: only then is the value walked. */
const MAY_HOLD_PROTOTYPE_KEY = /proto|constructor|\\u/;

/**
 * A refusal shaped like Fastify's own body errors, so the problem filter answers it the same way
 * (400 `malformed_body`), with a message that says what was wrong.
 */
function malformed(
  code: 'FST_ERR_CTP_INVALID_JSON_BODY' | 'FST_ERR_CTP_EMPTY_JSON_BODY',
  message: string,
): Error {
  return Object.assign(new Error(message), { statusCode: 400, code });
}

/**
 * Parses a JSON request body with Airlock's limits, or throws the error to answer with. The size
 * is already bounded by the body limit (413) before this runs.
 */
export function parseJsonBody(text: string, maxDepth: number): unknown {
  if (text.length === 0) {
    throw malformed(
      'FST_ERR_CTP_EMPTY_JSON_BODY',
      'the body is empty but its content type is application/json',
    );
  }
  if (nestsDeeperThan(text, maxDepth)) {
    throw new DomainError(
      ErrorCode.BodyTooDeep,
      `the JSON body nests objects and arrays more than ${maxDepth} levels deep`,
      { maxDepth },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message.slice(0, 200) : 'unreadable';
    throw malformed('FST_ERR_CTP_INVALID_JSON_BODY', `the body is not valid JSON: ${why}`);
  }
  const reserved = MAY_HOLD_PROTOTYPE_KEY.test(text) ? prototypeKeyPath(value) : undefined;
  if (reserved) {
    throw malformed(
      'FST_ERR_CTP_INVALID_JSON_BODY',
      `the JSON key ${reserved} is not accepted: a __proto__ key, or constructor with a prototype, could change what objects inherit`,
    );
  }
  return value;
}

/**
 * Replaces Fastify's JSON parser with one that refuses bodies nested deeper than
 * API_JSON_MAX_DEPTH and prototype keys, with problems that say which rule was broken.
 */
export function acceptJsonBodies(app: NestFastifyApplication, config: AirlockConfig): void {
  const fastify = app.getHttpAdapter().getInstance();
  if (fastify.hasContentTypeParser('application/json')) fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string, config.API_JSON_MAX_DEPTH));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}
