import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { compareDpkgVersions, DEBIAN_SCHEME, isValidDpkgVersion } from './dpkg';

/** Versions chosen to exercise every rule of verrevcmp and parseversion; all valid for dpkg. */
const VERSIONS = [
  // plain numbers, dots, leading zeros
  '0',
  '00',
  '0.0',
  '1',
  '01',
  '001.0',
  '1.0',
  '1.00',
  '1.0.0',
  '1.01',
  '1.0001',
  '1.1',
  '1.9',
  '1.10',
  '1.0.1',
  '1..0',
  '1.0.',
  '1.2.3.4.5.6.7.8.9',
  '20200101',
  '99999999999999999999',
  '100000000000000000000',
  '1.000000000000000000001',
  // epochs
  '0:1.0',
  '1:1.0',
  '1:0.9',
  '2:0.1',
  '10:1',
  '01:1.0',
  '+1:1.0',
  '2147483647:1',
  '1:1.0-1',
  '0:1.0-0',
  '1:1.0~rc1-1',
  // colons inside the upstream version
  '1:1.0:1',
  '1:1:2',
  '1:1.0:1-1',
  // tildes sort before everything, even the end
  '1~',
  '1.0~',
  '1.0~~',
  '1.0~~a',
  '1.0~~rc1',
  '1.0~1',
  '1.0~a',
  '1.0~alpha',
  '1.0~beta',
  '1.0~rc1',
  '1.0~rc2',
  '1.0~rc10',
  '1.0~rc1-1',
  '1.0~rc1-2',
  '1.0-1~',
  '1.0-1~bpo1',
  '1.0-1~bpo11+1',
  '1.0-~',
  // plus, letters and other punctuation
  '1.0+',
  '1.0++',
  '1.0+1',
  '1.0+~1',
  '1.0+b1',
  '1.0+dfsg',
  '1.0+dfsg-1',
  '1.0+dfsg1-1',
  '1.0+git20230101.abcdef-1',
  '1.0-1+b1',
  '1.0-1+deb11u2',
  '1.0-1+deb12u1',
  '1.0-1+deb12u10',
  '1.0a',
  '1.0b',
  '1.0A',
  '1.0Z',
  '1.0z',
  '1.0.a',
  '1.0-a',
  '1a',
  '1A',
  '1.0rc1',
  '1.0pre',
  '1.0p1',
  '1.0-+',
  '1.0-.',
  '1.0.-1',
  '1.0+-1',
  '1:1.0:',
  // revisions, including ones that are numerically empty
  '1.0-0',
  '1.0-00',
  '1.0-0.0',
  '1.0-0.1',
  '1.0-1',
  '1.0-01',
  '1.0-1.1',
  '1.0-1.2',
  '1.0-1.10',
  '1.0-2',
  '1.0-10',
  '1.0-1a',
  '1.0-1ubuntu1',
  '1.0-1ubuntu1.1',
  '1.0-1ubuntu0.1',
  '1.0-1build1',
  '1.0-0ubuntu0.22.04.1',
  // hyphens inside the upstream version (the revision starts after the last one)
  '1.0-1-1',
  '1.0-rc1-1',
  '1-2-3-4',
  // realistic Debian and Ubuntu versions
  '2.36-9+deb12u4',
  '2.36-9+deb12u10',
  '2.36-9',
  '3.0.11-1~deb12u2',
  '3.0.11-1',
  '3.0.2-0ubuntu1.15',
  '1:2.38.1-5+deb12u1',
  '1:2.38.1-5',
  '7.88.1-10+deb12u5',
  '7.88.1-10',
  '252.22-1~deb12u1',
  '252.22-1',
  '1.1.1n-0+deb11u5',
  '1.1.1w-0+deb11u1',
  '2.9.14+dfsg-1.3~deb12u1',
  '2.9.14+dfsg-1.3',
  '5.2.15-2+b2',
  '5.2.15-2',
  '1:9.18.24-1',
  '1:9.18.24-0ubuntu0.22.04.1',
  '0.9.8~rc1-2',
  '1:1.2.13.dfsg-1',
  '1.2.13.dfsg-1',
  '2:8.2.2434-3+deb11u1',
  '1:4.13.1-3',
  '4.13.1-3',
  '2.7.4-0ubuntu1.6',
  '6.1.76-1',
  '6.1.0-18',
  '5.10.0-28',
  '1.19.7-1~bpo10+1',
  '1.19.7-1',
  // combinations of the above
  '0.0.0',
  '9',
  '10',
  '3:0',
  '2:1.0~',
  '1:1.0+1',
  '1.0a~',
  '1.0~a~',
  '1.0-1~~',
  '1.0-1.0',
  '1.0-1.01',
  '1.0-0+b1',
  '1.0b1-1',
  '1.2.3a-1',
  '1.0~rc1+dfsg-1',
  '1.0+dfsg~rc1',
  '1.0.0~alpha.1',
  '1.0.0~alpha.2',
  '1.0.0~alpha.10',
];

/** Strings dpkg refuses (errors or syntax warnings), for the validity comparison. */
const INVALID = [
  '',
  ' ',
  'abc',
  '1:abc',
  ':1.0',
  '1:',
  '1.0-',
  'a:1.0',
  '1.0_1',
  '1.0-a_b',
  '1!0',
  '1.0 1',
  '1:1.0-',
  '1:-1',
  '~1',
  '.1',
  '1.0@',
  '1.0/1',
  '1,0',
  '1.0-1:1',
  '1.0é',
  '2147483648:1',
  '99999999999:1',
  '1.0:1',
  'x1:1.0',
];

/** Hand-checked against dpkg's rules; each row is [lower, higher]. */
const ORDERED = [
  ['1.0~rc1', '1.0'],
  ['1.0~rc1-1', '1.0-1'],
  ['1.0~~', '1.0~'],
  ['1.0~', '1.0'],
  ['1.0', '1.0a'],
  ['1.0a', '1.0+'],
  ['1.0Z', '1.0a'],
  ['1.0', '1.0.1'],
  ['1.9', '1.10'],
  ['1:0.9', '2:0.1'],
  ['1.99', '1:0.1'],
  ['2.36-9', '2.36-9+deb12u4'],
  ['2.36-9+deb12u4', '2.36-9+deb12u10'],
  ['3.0.11-1~deb12u2', '3.0.11-1'],
  ['1.0-1ubuntu0.1', '1.0-1ubuntu1'],
  ['1.0-1', '1.0-1.1'],
  ['1.0-1', '1.0-rc1-1'], // upstream 1.0-rc1: a hyphen is punctuation, which sorts after the end
];

const EQUAL = [
  ['0:1.0', '1.0'],
  ['1.0', '1.00'],
  ['1.0', '1.0-0'],
  ['1.0-0', '1.0-00'],
  ['01:1.0', '1:1.0'],
  ['+1:1.0', '1:1.0'],
  ['001.0', '1.0'],
  [' 1.0', '1.0'],
];

describe('dpkg version comparison', () => {
  it.each(ORDERED)('%s < %s', (lower, higher) => {
    expect(compareDpkgVersions(lower, higher)).toBe(-1);
    expect(compareDpkgVersions(higher, lower)).toBe(1);
  });

  it.each(EQUAL)('%s == %s', (a, b) => {
    expect(compareDpkgVersions(a, b)).toBe(0);
    expect(compareDpkgVersions(b, a)).toBe(0);
  });

  it('accepts the whole list of test versions and refuses the invalid ones', () => {
    expect(VERSIONS.filter((v) => !DEBIAN_SCHEME.valid(v))).toEqual([]);
    expect(INVALID.filter((v) => isValidDpkgVersion(v))).toEqual([]);
  });

  it('refuses to compare what is not a version', () => {
    expect(() => compareDpkgVersions('abc', '1.0')).toThrow('not a Debian version');
  });
});

/*
 * The reference: the dpkg binary itself. Bash runs the dpkg calls in a loop, so the cost is about a
 * millisecond per call rather than a process spawn from Node per pair; the lines are split across
 * two such loops running side by side.
 */
const DPKG = '/usr/bin/dpkg';
const describeWithDpkg = existsSync(DPKG) ? describe : describe.skip;
const PARALLEL_LOOPS = 2;
const SAMPLED_PAIRS = 2000;

function runBash(script: string, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`bash exited with ${code}`)),
    );
    child.stdin.end(input);
  });
}

/** Runs `dpkg <args>` once per input line (fields a, b, c tab-separated); 1 on success, else 0. */
async function dpkgForEachLine(args: string, lines: string[]): Promise<string[]> {
  const script = `while IFS=$'\\t' read -r a b c; do ${DPKG} ${args} >/dev/null 2>&1 && echo 1 || echo 0; done`;
  const size = Math.ceil(lines.length / PARALLEL_LOOPS);
  const chunks = Array.from({ length: PARALLEL_LOOPS }, (_, i) => lines.slice(i * size, (i + 1) * size));
  const outputs = await Promise.all(
    chunks.filter((chunk) => chunk.length > 0).map((chunk) => runBash(script, chunk.join('\n') + '\n')),
  );
  return outputs.flatMap((output) => output.trim().split('\n'));
}

/** A small deterministic generator so the sampled pairs are the same on every run. */
function* pseudoRandomPairs(count: number, size: number): Generator<[number, number]> {
  let state = 0x2545f491;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % size;
  };
  for (let i = 0; i < count; i++) yield [next(), next()];
}

const operator = (sign: number): string => (sign < 0 ? 'lt' : sign > 0 ? 'gt' : 'eq');

describeWithDpkg('dpkg --compare-versions agreement', () => {
  it('judges validity like dpkg --validate-version', async () => {
    const candidates = [...VERSIONS, ...INVALID];
    const verdicts = await dpkgForEachLine('--validate-version "$a"', candidates);
    expect(verdicts).toHaveLength(candidates.length);
    const disagreements = candidates.filter((v, i) => isValidDpkgVersion(v) !== (verdicts[i] === '1'));
    expect(disagreements).toEqual([]);
  });

  it('orders sampled pairs and every neighbour in sorted order as dpkg does', async () => {
    // Neighbours in our sorted order pin down the whole order (dpkg's order is transitive); the
    // random pairs check the same thing directly.
    const sorted = [...VERSIONS].sort(compareDpkgVersions);
    const pairs: [string, string][] = sorted.slice(1).map((v, i) => [sorted[i], v]);
    for (const [i, j] of pseudoRandomPairs(SAMPLED_PAIRS, VERSIONS.length))
      pairs.push([VERSIONS[i], VERSIONS[j]]);

    // Ask dpkg to confirm the relation we computed; the three relations exclude one another.
    const lines = pairs.map(([a, b]) => `${a}\t${operator(compareDpkgVersions(a, b))}\t${b}`);
    const verdicts = await dpkgForEachLine('--compare-versions "$a" "$b" "$c"', lines);
    expect(verdicts).toHaveLength(lines.length);
    const disagreements = lines.filter((_, i) => verdicts[i] !== '1');
    expect(disagreements).toEqual([]);
    expect(pairs.length).toBe(SAMPLED_PAIRS + VERSIONS.length - 1);
  });
});
