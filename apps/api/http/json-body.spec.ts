import { DomainError } from '../../../libs/domain';
import { nestsDeeperThan, parseJsonBody, prototypeKeyPath } from './json-body';

const nested = (n: number): string => '['.repeat(n) + ']'.repeat(n);

describe('nestsDeeperThan', () => {
  it.each([
    ['{}', 1, false],
    ['{"a":{"b":1}}', 1, true],
    ['{"a":{"b":1}}', 2, false],
    [nested(32), 32, false],
    [nested(33), 32, true],
    // Brackets inside strings, escaped quotes included, are text.
    ['{"a":"[[[[{{{{"}', 1, false],
    ['{"a":"\\"[[[["}', 1, false],
    ['[1,[2],[3],[4]]', 2, false],
    ['"just a string"', 0, false],
  ])('%s at most %i → %s', (text, max, deeper) => {
    expect(nestsDeeperThan(text, max)).toBe(deeper);
  });

  it('scans a body nested 100,000 levels without recursion', () => {
    expect(nestsDeeperThan(nested(100_000), 32)).toBe(true);
  });
});

describe('prototypeKeyPath', () => {
  it.each([
    [{ a: 1 }, undefined],
    [JSON.parse('{"__proto__":{"admin":true}}'), '__proto__'],
    [JSON.parse('{"a":[{"b":{"__proto__":1}}]}'), 'a.0.b.__proto__'],
    [JSON.parse('{"\\u005f_proto__":1}'), '__proto__'],
    [{ constructor: { prototype: { admin: true } } }, 'constructor.prototype'],
    // A plain `constructor` field is left to the validation pipe (an unknown field).
    [{ constructor: 'x' }, undefined],
  ])('%j → %s', (value, path) => {
    expect(prototypeKeyPath(value)).toBe(path);
  });
});

describe('parseJsonBody', () => {
  const refusal = (text: string): unknown => {
    try {
      parseJsonBody(text, 32);
    } catch (e) {
      return e instanceof DomainError
        ? { code: e.code, message: e.message }
        : { code: (e as { code: string }).code, message: (e as Error).message };
    }
    return undefined;
  };

  it('parses ordinary JSON', () => {
    expect(parseJsonBody('{"a":[1,{"b":null}]}', 32)).toEqual({ a: [1, { b: null }] });
  });

  it('refuses depth with body_too_deep, before parsing', () => {
    expect(refusal(nested(2000))).toEqual({
      code: 'body_too_deep',
      message: 'the JSON body nests objects and arrays more than 32 levels deep',
    });
  });

  it('refuses prototype keys saying which key', () => {
    expect(refusal('{"x":{"__proto__":{"admin":true}}}')).toEqual({
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
      message: expect.stringMatching(/^the JSON key x\.__proto__ is not accepted/),
    });
  });

  it('refuses empty and malformed bodies as such', () => {
    expect(refusal('')).toMatchObject({ code: 'FST_ERR_CTP_EMPTY_JSON_BODY' });
    expect(refusal('{"a":')).toMatchObject({
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
      message: expect.stringMatching(/^the body is not valid JSON/),
    });
  });
});
