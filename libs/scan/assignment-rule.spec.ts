// The name-based rule in every syntax it knows, the values it judges (short and dotted ones too),
// and what it leaves alone. Values are made at run time.
import { findHighEntropyAssignments, judgeAssignedValue } from './assignment-rule';
import { scanFileForSecrets } from './secret-scanner';
import { seededRandom } from '../../test/support/secret-samples';

const random = seededRandom(42);
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const rand = (n: number) =>
  Array.from({ length: n }, () => ALNUM[Math.floor(random() * ALNUM.length)]).join('');
const V = `${rand(10)}7${rand(13)}`; // 24 characters, a digit for sure
const SHORT = `Tr0ub4${rand(4)}!`; // 11 characters: a password
const DOTTED = `${rand(6)}9.${rand(10)}.${rand(8)}4`;

/** [syntax, text, value]: the rule must find exactly `value` in `text`. */
export const ASSIGNMENT_SYNTAXES: ReadonlyArray<readonly [string, string, string]> = [
  ['.env', `API_TOKEN=${V}\n`, V],
  ['.env quoted', `API_TOKEN="${V}"\n`, V],
  ['shell export', `export GITHUB_TOKEN=${V}\n`, V],
  ['INI', `[server]\napi_key = ${V}\n`, V],
  ['properties', `spring.datasource.password=${SHORT}\n`, SHORT],
  ['properties colon', `app.client.secret: ${V}\n`, V],
  ['YAML', `auth:\n  token: ${V}\n`, V],
  ['YAML quoted', `password: "${SHORT}"\n`, SHORT],
  ['JSON', `{"client_secret": "${V}"}`, V],
  ['JSON string holding KEY=value', `{"env": ["NODE_ENV=production", "SESSION_SECRET=${V}"]}`, V],
  ['JSON string holding a command', `{"cmd": "export API_TOKEN=${V} && run"}`, V],
  ['HCL', `resource "x" "y" {\n  password = "${SHORT}"\n}\n`, SHORT],
  ['Terraform variable default', `variable "db_password" {\n  default = "${SHORT}"\n}\n`, ''],
  ['Go :=', `\ttoken := "${V}"\n`, V],
  ['Go := backticks', `\ttoken := \`${V}\`\n`, V],
  ['Go var typed', `var apiToken string = "${V}"\n`, V],
  ['Kotlin typed', `val apiKey: String = "${V}"\n`, V],
  ['Java', `String password = "${SHORT}";\n`, SHORT],
  ['Java System.setProperty', `System.setProperty("AWS_SECRET_TOKEN", "${V}");\n`, V],
  ['PHP', `$db_password = '${SHORT}';\n`, SHORT],
  ['PHP .=', `$token .= "${V}";\n`, V],
  ['PHP define', `define('AUTH_KEY', '${V}');\n`, V],
  ['PHP array =>', `  'api_secret' => '${V}',\n`, V],
  ['logstash =>', `  "password" => "${SHORT}"\n`, SHORT],
  ['Makefile :=', `API_TOKEN := ${V}\n`, V],
  ['Makefile ::=', `API_TOKEN ::= ${V}\n`, V],
  ['Makefile :::=', `API_TOKEN :::= ${V}\n`, V],
  ['Makefile ?=', `API_TOKEN ?= ${V}\n`, V],
  ['XML element', `<config><apiToken>${V}</apiToken></config>`, V],
  ['XML password element', `<password>${SHORT}</password>`, SHORT],
  ['Dockerfile ENV =', `ENV NPM_TOKEN=${V}\n`, V],
  ['Dockerfile ENV space', `ENV NPM_TOKEN ${V}\n`, V],
  ['Dockerfile ARG', `ARG DEPLOY_KEY=${V}\n`, V],
  ['Python', `SECRET_KEY = '${V}'\n`, V],
  ['dotted value', `SLACK_TOKEN=${DOTTED}\n`, DOTTED],
  ['short value, strong name', `DB_PASS=${SHORT}\n`, SHORT],
];

describe('the name-based rule', () => {
  it.each(ASSIGNMENT_SYNTAXES)('%s', (_, text, value) => {
    const found = findHighEntropyAssignments(text).map((m) => m.value);
    if (value) expect(found).toEqual([value]);
    else expect(found).toEqual([]);
  });

  it('reports the value where it is', () => {
    const text = `{"env": ["A=1", "SESSION_SECRET=${V}"]}`;
    expect(findHighEntropyAssignments(text)).toEqual([{ index: text.indexOf(V), value: V }]);
  });

  it.each([
    ['environment reference', 'API_TOKEN=${API_TOKEN}'],
    ['process.env', 'const token = process.env.GITHUB_TOKEN;'],
    ['settings attribute', 'api_key = settings.API_KEY'],
    ['call', 'password = getpass.getpass()'],
    ['comparison', 'if (token == "abcdefghij12345678")'],
    ['path', 'private_key = /etc/ssl/private/server.key'],
    ['URL', 'token_url: https://auth.example.com/oauth/token'],
    ['version', 'token_version: 1.24.3-beta.1'],
    ['Maven coordinate', '<secretKey>org.apache.maven.plugins:maven-gpg-plugin:3.1.0</secretKey>'],
    ['placeholder', 'API_TOKEN=your_api_token_here'],
    ['angle placeholder', 'password: <password>'],
    ['xxxx', 'password = "xxxxxxxxxx"'],
    ['changeme', 'DB_PASSWORD=changeme123'],
    ['plain word', 'password: required'],
    ['boolean', 'token: true'],
    ['identifier', 'secret = DEFAULT_SECRET_VALUE'],
    ['sentence', 'secret: "the value of the secret goes here"'],
    ['name that is not a secret', `token_type = ${V}`],
    ['key that is a word', `monkey = ${V}`],
    ['short value for a key', 'signing_key = Ab3dEf9h'],
    ['template', 'password: "{{ .Values.password }}"'],
    ['GitHub Actions expression', 'GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}'],
  ])('leaves alone a %s', (_, text) => {
    expect(findHighEntropyAssignments(`${text}\n`)).toEqual([]);
  });

  it('judges short values only under names that are clearly a secret', () => {
    expect(judgeAssignedValue('password', SHORT)).toBe(true);
    expect(judgeAssignedValue('signing_key', SHORT)).toBe(false);
    expect(judgeAssignedValue('password', 'hunter')).toBe(false);
  });

  it('finds random base62 values of every length, not only most of them', () => {
    // Before the word test counted pronounceable letters, 232 of these 4,000 were not reported: 1
    // random 32-character value in 28 passed as an identifier made of words.
    const missed: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const value = `${rand(8 + (i % 32))}${i % 10}${rand(7)}`;
      if (!judgeAssignedValue('SECRET_KEY', value)) missed.push(value);
    }
    // A few in 1,000 hold a stopword (`test`, `demo`), pass as words, or repeat characters enough
    // to fall under the entropy bar (16 characters, the shortest, most often).
    expect(missed.length).toBeLessThan(20);
  });

  it('finds random base64url values too, whose `_` does not make them snake_case', () => {
    const missed: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const value = `${rand(10 + (i % 20))}_${rand(12)}`;
      if (!judgeAssignedValue('SECRET_KEY', value)) missed.push(value);
    }
    expect(missed.length).toBeLessThan(10);
  });

  it.each([
    'configService',
    'NodePath_context',
    'hasOwnProperty$1',
    'base64ToUint8Array',
    'CipherChaCha20Poly1305Options',
    'createCloseHttp2SessionsByHttp2Server',
    'normalizeIPv6Address',
    'id_pkcs9_at_dateOfBirth',
    'validISO31661Alpha2CountriesCodes',
  ])('leaves alone an identifier made of words: %s', (value) => {
    expect(judgeAssignedValue('SECRET_KEY', value)).toBe(false);
  });

  it('is reported by the scan with its line', async () => {
    const findings = await scanFileForSecrets(
      { path: 'srv/app/main.go', content: `package main\n\nvar apiToken string = "${V}"\n` },
      `sha256:${'d'.repeat(64)}`,
    );
    expect(findings.map((f) => [f.rule, f.line])).toEqual([['entropy/assignment', 3]]);
  });
});
