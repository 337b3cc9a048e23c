import {
  parseCommandArgs,
  parseDuration,
  parseMetadata,
  parsePositiveInt,
  secretsIn,
  splitCommand,
  UsageError,
} from './args';

const groups = new Set(['promotions', 'audit']);
const wantsMore = (w: readonly string[]): boolean => w.length === 1 && groups.has(w[0]);

describe('splitCommand', () => {
  it('takes one word for a plain command and two for a group', () => {
    expect(splitCommand(['promote', 'img', '--env', 'prod'], wantsMore)).toEqual({
      words: ['promote'],
      rest: ['img', '--env', 'prod'],
    });
    expect(splitCommand(['promotions', 'list', '--all'], wantsMore)).toEqual({
      words: ['promotions', 'list'],
      rest: ['--all'],
    });
  });

  it('lets global options with values come before the command', () => {
    expect(splitCommand(['--server', 'http://x', '--json', 'audit', 'verify'], wantsMore)).toEqual({
      words: ['audit', 'verify'],
      rest: ['--server', 'http://x', '--json'],
    });
  });

  it('leaves everything after -- alone', () => {
    expect(splitCommand(['promote', '--', '-odd'], wantsMore)).toEqual({
      words: ['promote'],
      rest: ['--', '-odd'],
    });
  });
});

describe('parseCommandArgs', () => {
  it('merges the global options and keeps positionals', () => {
    const { values, positionals } = parseCommandArgs(
      ['img', '--env', 'prod', '--metadata', 'a=1', '--metadata', 'b=2', '--json'],
      { env: { type: 'string' }, metadata: { type: 'string', multiple: true } },
    );
    expect(positionals).toEqual(['img']);
    expect(values).toMatchObject({ env: 'prod', metadata: ['a=1', 'b=2'], json: true });
  });

  it('turns unknown options and missing values into usage errors', () => {
    expect(() => parseCommandArgs(['--nope'], {})).toThrow(UsageError);
    expect(() => parseCommandArgs(['--env'], { env: { type: 'string' } })).toThrow(UsageError);
  });
});

describe('parseDuration', () => {
  it.each([
    ['30m', 1_800_000],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['45', 45_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'soon', '10x', '-5s', '0s', '0', '1.5h'])('refuses %p', (text) => {
    expect(() => parseDuration(text)).toThrow(UsageError);
  });
});

describe('parseMetadata', () => {
  it('builds an object and keeps = inside values', () => {
    expect(parseMetadata(['ticket=OPS-1', 'query=a=b'])).toEqual({ ticket: 'OPS-1', query: 'a=b' });
    expect(parseMetadata([])).toBeUndefined();
  });

  it('refuses pairs without a key and keys given twice', () => {
    expect(() => parseMetadata(['novalue'])).toThrow(/not key=value/);
    expect(() => parseMetadata(['=x'])).toThrow(/not key=value/);
    expect(() => parseMetadata(['a=1', 'a=2'])).toThrow(/given twice/);
  });
});

describe('parsePositiveInt', () => {
  it('accepts whole numbers in range only', () => {
    expect(parsePositiveInt('3', 'limit', 200)).toBe(3);
    for (const bad of ['0', '201', '-1', '1.5', 'ten', '']) {
      expect(() => parsePositiveInt(bad, 'limit', 200)).toThrow(UsageError);
    }
  });
});

describe('secretsIn', () => {
  it('finds the token in argv (both spellings) and in AIRLOCK_TOKEN', () => {
    expect(
      secretsIn(['--token', 'tok-one', 'whoami', '--token=tok-two'], { AIRLOCK_TOKEN: 'tok-three' }),
    ).toEqual(['tok-one', 'tok-two', 'tok-three']);
  });
});

describe('--output', () => {
  it('is --json for json, the default for text, and refuses anything else', () => {
    expect(parseCommandArgs(['--output', 'json'], {}).values.json).toBe(true);
    expect(parseCommandArgs(['-o', 'json'], {}).values.json).toBe(true);
    expect(parseCommandArgs(['--output=text'], {}).values.json).toBe(false);
    expect(() => parseCommandArgs(['--output', 'yaml'], {})).toThrow(/not a format/);
    expect(() => parseCommandArgs(['--json', '--output', 'text'], {})).toThrow(/not both/);
  });

  it('takes its value before the command words too', () => {
    expect(splitCommand(['-o', 'json', 'promotions', 'get', 'x'], wantsMore)).toEqual({
      words: ['promotions', 'get'],
      rest: ['-o', 'json', 'x'],
    });
  });
});

describe('secretsIn', () => {
  it("names the CI's credentials too", () => {
    expect(
      secretsIn([], { ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-token', AIRLOCK_ID_TOKEN: 'gitlab-token' }),
    ).toEqual(['runtime-token', 'gitlab-token']);
  });
});
