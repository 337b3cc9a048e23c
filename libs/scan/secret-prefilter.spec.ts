// The pre-filter must never change what the scan finds: every case here goes through the planned
// scan (only the rules that could match) and the reference scan (every rule on every file) and
// must give identical findings. The secrets are made at run time, in the shapes the rules look for.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALWAYS_RUN_RULES, planSecretScan } from './secret-prefilter';
import {
  ASSIGNMENT_BREAKS,
  findHighEntropyAssignments,
  findHighEntropyAssignmentsInSpans,
  SECRET_PATTERNS,
  SECRETLINT_RULE_IDS,
} from './secret-rules';
import { scanFileForSecrets } from './secret-scanner';
import { PATTERN_RULE, SECRET_TRIGGERS, TRIGGERS_READ_FROM } from './secret-triggers';
import { checksummedToken, fakeSecrets, secretFiles } from '../../test/support/layer-fixtures';

const LAYER = `sha256:${'b'.repeat(64)}`;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LETTERS = ALNUM.slice(0, 52);
const HEX = '0123456789abcdef';
const B64URL = `${ALNUM}_-`;

function randomFrom(alphabet: string, n: number): string {
  let s = '';
  for (const b of randomBytes(n)) s += alphabet[b % alphabet.length];
  return s;
}

/** A 1Password service account token: `ops_` + base64 of a JSON object ending in `fQ==`. */
function opsToken(): string {
  let json = `{"email":"ci@example.test","secretKey":"${randomFrom(ALNUM, 60)}"}`;
  while (json.length % 3 !== 1) json = json.replace('{', '{ ');
  return `ops_${Buffer.from(json).toString('base64')}`;
}

interface Sample {
  /** The finding's rule id starts with this. */
  rule: string;
  path: string;
  content: string;
}

/** One file per message of each secretlint rule we run, and per pattern of ours. */
function ruleSamples(): Sample[] {
  const s = fakeSecrets();
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const rsaPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const password = randomFrom(ALNUM, 18);
  const gcpKey = {
    type: 'service_account',
    private_key_id: randomFrom(HEX, 40),
    private_key: s.privateKeyPem,
  };
  return [
    ...secretFiles(s).map(({ rule, path, content }) => ({ rule, path, content })),
    { rule: 'privatekey/PrivateKey', path: 'etc/ssl/private/server.key', content: rsaPem },
    { rule: 'gcp/PrivateKeyJSON', path: 'srv/sa.json', content: JSON.stringify(gcpKey, null, 2) },
    {
      // The key spelled with an escape: JSON.parse still reads "private_key_id".
      rule: 'gcp/PrivateKeyJSON',
      path: 'srv/SA.JSON',
      content: JSON.stringify(gcpKey).replace('"private_key_id"', '"private\\u005fkey_id"'),
    },
    {
      rule: 'npm/PackageJSON_xOauthToken',
      path: 'app/package.json',
      content: `{"repository": "https://${randomFrom(HEX, 40)}:x-oauth-basic@github.com/acme/app.git"}`,
    },
    { rule: 'npm/NPM_ACCESS_TOKEN', path: 'app/.env', content: `NPM_TOKEN=${checksummedToken('npm_')}\n` },
    {
      rule: 'basicauth/BasicAuth',
      path: 'srv/app.ini',
      content: `url = https://deploy:${password}@git.example.com/repo\n`,
    },
    {
      rule: 'slack/SLACK_TOKEN',
      path: 'srv/bot.py',
      content: `TOKEN = "xoxb-${randomFrom('0123456789', 12)}-${randomFrom(ALNUM, 24)}"\n`,
    },
    {
      rule: 'slack/IncomingWebhook',
      path: 'srv/hook.sh',
      content: `curl HTTPS://Hooks.Slack.com/services/T${randomFrom(ALNUM, 10)}/B${randomFrom(ALNUM, 10)}/${randomFrom(ALNUM, 24)}\n`,
    },
    {
      rule: 'sendgrid/SENDGRID_KEY',
      path: 'srv/mail.js',
      content: `const key = 'SG.${randomFrom(ALNUM, 22)}.${randomFrom(ALNUM, 43)}';\n`,
    },
    { rule: 'shopify/SHOPIFY_KEY', path: 'srv/shop.rb', content: `key: shpat_${randomFrom(HEX, 32)}\n` },
    {
      rule: 'stripe/STRIPE_SECRET_KEY_LIVE',
      path: 'srv/pay.ts',
      content: `sk_live_${randomFrom(ALNUM, 32)}`,
    },
    {
      rule: 'stripe/STRIPE_RESTRICTED_KEY_TEST',
      path: 'srv/pay.ts',
      content: `rk_test_${randomFrom(ALNUM, 24)}`,
    },
    { rule: 'github/GITHUB_TOKEN', path: 'srv/gh', content: `github_pat_${randomFrom(`${ALNUM}_`, 82)}\n` },
    {
      rule: 'grafana/GRAFANA_CLOUD_API_TOKEN',
      path: 'srv/grafana.yaml',
      content: `token: glc_${randomFrom(ALNUM, 40)}\n`,
    },
    {
      rule: 'grafana/GRAFANA_SERVICE_ACCOUNT_TOKEN',
      path: 'srv/grafana.yaml',
      content: `token: glsa_${randomFrom(ALNUM, 32)}_${randomFrom(HEX, 8)}\n`,
    },
    {
      rule: 'openai/OPENAI_TOKEN',
      path: 'srv/ai.py',
      content: `OPENAI = "sk-${randomFrom(ALNUM, 20)}T3BlbkFJ${randomFrom(ALNUM, 20)}"\n`,
    },
    {
      rule: 'anthropic/ANTHROPIC_API_KEY',
      path: 'srv/ai.py',
      content: `ANTHROPIC = "sk-ant-api03-${randomFrom(B64URL, 93)}AA"\n`,
    },
    { rule: 'groq/GROQ_API_KEY', path: 'srv/ai.py', content: `GROQ = "gsk_${randomFrom(ALNUM, 52)}"\n` },
    {
      rule: 'huggingface/HUGGINGFACE_USER_ACCESS_TOKEN',
      path: 'srv/ai.py',
      content: `HF = "hf_${randomFrom(LETTERS, 34)}"\n`,
    },
    {
      rule: 'linear/LINEAR_API_TOKEN',
      path: 'srv/ci.env',
      content: `LINEAR=lin_api_${randomFrom(ALNUM, 40)}\n`,
    },
    {
      rule: 'notion/NOTION_INTEGRATION_TOKEN',
      path: 'srv/ci.env',
      content: `NOTION=ntn_${randomFrom('0123456789', 11)}${randomFrom(ALNUM, 35)}\n`,
    },
    { rule: '1password/OPS_TOKEN', path: 'srv/ci.env', content: `OP_SERVICE_ACCOUNT_TOKEN=${opsToken()}\n` },
    {
      rule: 'database-connection-string/MongoDBConnection',
      path: 'srv/db.env',
      content: `MONGO_URL=MongoDB+srv://app:${password}@cluster0.db.internal/app?retryWrites=true\n`,
    },
    {
      rule: 'database-connection-string/MySQLConnection',
      path: 'srv/db.properties',
      content: `url=jdbc:mysql://app:${password}@db.internal:3306/app\n`,
    },
    {
      rule: 'database-connection-string/PostgreSQLConnection',
      path: 'srv/db.env',
      content: `DATABASE_URL=postgresql://app:${password}@db.internal:5432/app\n`,
    },
    {
      rule: 'hashicorp-vault/HASHICORP_VAULT_SERVICE_TOKEN',
      path: 'srv/vault.hcl',
      content: `token = "hvs.${randomFrom(B64URL, 95)}"\n`,
    },
    {
      rule: 'vercel/VERCEL_PERSONAL_ACCESS_TOKEN',
      path: 'srv/v.env',
      content: `VC=vcp_${randomFrom(ALNUM, 24)}\n`,
    },
    {
      rule: 'databricks/DATABRICKS_PERSONAL_ACCESS_TOKEN',
      path: 'srv/db.cfg',
      content: `token = dapi${randomFrom(HEX, 32)}\n`,
    },
    {
      rule: 'docker/DOCKER_PERSONAL_ACCESS_TOKEN',
      path: 'srv/ci.sh',
      content: `echo dckr_pat_${randomFrom(B64URL, 27)} | docker login --password-stdin\n`,
    },
    {
      rule: 'figma/FIGMA_PERSONAL_ACCESS_TOKEN',
      path: 'srv/f.env',
      content: `FIGMA=figd_${randomFrom(B64URL, 40)}\n`,
    },
    {
      rule: 'cloudflare/CLOUDFLARE_',
      path: 'srv/cf.env',
      content: `CF=cfut_${randomFrom(ALNUM, 40)}${randomFrom(HEX, 8)}\n`,
    },
    {
      rule: 'tailscale/TAILSCALE_',
      path: 'srv/ts.env',
      content: `TS=tskey-auth-${randomFrom(ALNUM, 12)}-${randomFrom(ALNUM, 30)}\n`,
    },
    {
      rule: 'pattern/npmrc-auth',
      path: 'root/.npmrc',
      content: `_auth = ${Buffer.from(`ci:${password}`).toString('base64')}\n`,
    },
  ];
}

/** Both scans of one file: the planned one and the reference. */
async function bothScans(path: string, content: Buffer | string) {
  const planned = await scanFileForSecrets({ path, content }, LAYER);
  const reference = await scanFileForSecrets({ path, content }, LAYER, { prefilter: false });
  return { planned, reference };
}

describe('the secret triggers', () => {
  it('were read from the rule packages installed', () => {
    for (const [name, version] of Object.entries(TRIGGERS_READ_FROM)) {
      const manifest = JSON.parse(
        readFileSync(join(__dirname, '../../node_modules', name, 'package.json'), 'utf8'),
      ) as { version: string };
      expect([name, manifest.version]).toEqual([name, version]);
    }
  });

  it('cover every secretlint rule and pattern we run', () => {
    expect(ALWAYS_RUN_RULES).toEqual([]);
    expect(new Set(SECRET_TRIGGERS.map((t) => t.rule))).toEqual(new Set(SECRETLINT_RULE_IDS));
    expect(SECRET_TRIGGERS.filter((t) => t.rule === PATTERN_RULE).map((t) => t.what)).toEqual(
      SECRET_PATTERNS.map((p) => p.name),
    );
  });

  it('are confirmed near their literals, up to the longest match each allows', () => {
    const [user, password] = [randomFrom(ALNUM, 256), randomFrom(ALNUM, 256)];
    const planned = (text: string) => [
      ...planSecretScan('srv/notes.txt', Buffer.from(`${'.'.repeat(600)}${text}${'.'.repeat(600)}`)).rules,
    ];
    const rule = (name: string) => `@secretlint/secretlint-rule-${name}`;
    expect(planned(`https://${user}:${password}@db`)).toContain(rule('basicauth'));
    expect(planned(`https://${user}:${password}`)).not.toContain(rule('basicauth'));
    expect(planned('-----BEGIN OPENSSH PRIVATE KEY-----')).toContain(rule('privatekey'));
    expect(planned(`A3TX${randomFrom('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`)).toContain(rule('aws'));
    expect(planned(`aws_Secret_Access_KEY=x`)).toContain(rule('aws'));
    expect(planned('MONGODB+SRV://db')).toContain(rule('database-connection-string'));
    expect(planned(`SG.${randomFrom(ALNUM, 128)}.x`)).toContain(rule('sendgrid'));
  });

  it('match ASCII characters only, so bytes and text agree', () => {
    for (const trigger of SECRET_TRIGGERS) {
      for (const literal of trigger.literals) expect(literal).toMatch(/^[\x20-\x7e]+$/);
      if (!trigger.confirm) continue;
      const { source, flags } = trigger.confirm.pattern;
      // No wildcard, negated class, or class that holds non-ASCII characters; `i` without `u`.
      expect([trigger.what, source]).not.toEqual([
        trigger.what,
        expect.stringMatching(/(?<!\\)\.|\[\^|\\[sSWDbBpP]/),
      ]);
      expect(flags).toMatch(/^i?$/);
    }
  });
});

describe('the planned scan finds what the reference scan finds', () => {
  const samples = ruleSamples();

  it('covers every rule with a sample', () => {
    const covered = new Set(samples.map((s) => s.rule.split('/')[0]));
    for (const id of SECRETLINT_RULE_IDS.filter((r) => r !== PATTERN_RULE))
      expect([id, covered.has(id.replace('@secretlint/secretlint-rule-', ''))]).toEqual([id, true]);
  });

  it.each(samples.map((s) => [s.rule, s] as const))('%s', async (_, sample) => {
    const { planned, reference } = await bothScans(sample.path, Buffer.from(sample.content));
    expect(reference.map((f) => f.rule)).toContainEqual(expect.stringMatching(`^${sample.rule}`));
    expect(planned).toEqual(reference);
  });

  it('in all the samples at once, as a string, with a BOM and CRLF line ends', async () => {
    const content = `\uFEFF${samples.map((s) => s.content).join('\n')}`.replace(/\n/g, '\r\n');
    for (const path of [
      'srv/all.txt',
      'root/.npmrc',
      'root/.netrc',
      'x/.docker/config.json',
      'a/package.json',
    ]) {
      const { planned, reference } = await bothScans(path, content);
      expect(reference.length).toBeGreaterThan(20);
      expect(planned).toEqual(reference);
    }
  });

  it('in random mixes of secrets, near misses, non-ASCII and invalid UTF-8', async () => {
    const fragments: (string | Buffer)[] = [
      ...samples.map((s) => s.content),
      ...SECRET_TRIGGERS.flatMap((t) => t.literals),
      'password ',
      'apiKey: ',
      '"client_secret": "',
      `token=${randomFrom(ALNUM, 20)}`,
      `TOKEN_URL=https://a:b@c.example.com`,
      'é',
      '日本語',
      '😀',
      '\u00a0',
      '\u2028',
      '\uFEFF',
      '\t',
      ' ',
      '\r\n',
      '\n',
      ...ASSIGNMENT_BREAKS.split(''),
      Buffer.from([0xff]),
      Buffer.from([0xc3]),
      Buffer.from([0xe2, 0x82]),
      Buffer.from([0xf0, 0x9f, 0x98]),
    ];
    const paths = [
      'srv/x.txt',
      'root/.npmrc',
      'home/.netrc',
      'r/.docker/config.json',
      'p/package.json',
      'k.json',
    ];
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    for (let run = 0; run < 150; run++) {
      const parts = Array.from({ length: 1 + random(12) }, () => fragments[random(fragments.length)]);
      const content = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
      const path = paths[random(paths.length)];
      const { planned, reference } = await bothScans(path, content);
      expect([path, content.toString('base64'), planned]).toEqual([
        path,
        content.toString('base64'),
        reference,
      ]);
    }
  });
});

describe('the entropy rule on spans of bytes', () => {
  /** The reference: the whole-text rule, with line numbers. */
  function wholeText(text: string) {
    return findHighEntropyAssignments(text).map((m) => ({
      line: text.slice(0, m.index).split('\n').length,
      value: m.value,
    }));
  }

  it('finds what the whole-text rule finds, with the same line numbers', () => {
    const value = () => randomFrom(ALNUM, 17 + (randomBytes(1)[0] % 30)) + '7';
    const pieces = [
      `SECRET_KEY=${value()}`,
      `"client_secret": "${value()}"`,
      `apiKey:'${value()}'`,
      `x.privateKey = "${value()}"`,
      `{auth_token:${value()},b:1}`,
      `f(password=${value()})`,
      `api_key=${value()}=${value()}`,
      `=${value()}`,
      `key\u00a0=\u00a0${value()}`,
      `token: é${value()}`,
      `const monkey = "${value()}";`,
      '\uFEFF',
      '\n',
      '\r\n',
      ' ',
      '\t',
      ...ASSIGNMENT_BREAKS.split(''),
      'é日😀',
    ];
    let seed = 3;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    let found = 0;
    for (let run = 0; run < 300; run++) {
      const text = Array.from({ length: 1 + random(10) }, () => pieces[random(pieces.length)]).join(
        random(2) ? '' : '\n',
      );
      const bytes = Buffer.from(text);
      const spans = planSecretScan('srv/app.env', bytes).entropySpans;
      const expected = wholeText(text);
      found += expected.length;
      expect([text, findHighEntropyAssignmentsInSpans(bytes, spans)]).toEqual([text, expected]);
    }
    expect(found).toBeGreaterThan(100);
  });
});

describe('the spans of the entropy rule', () => {
  it('break only at characters no reported assignment holds', () => {
    for (const c of ASSIGNMENT_BREAKS) {
      expect(c.charCodeAt(0)).toBeLessThan(0x80);
      // Not a name character, operator, blank or quote …
      expect(c).not.toMatch(/[A-Za-z0-9_.:= \t"'-]/);
      // … nor a value character (the rule's VALUE_CHAR is [^\s"'`,;(){}[\]<>]).
      expect(c).toMatch(/[\s"'`,;(){}[\]<>]/);
    }
  });

  it('are found in linear time', () => {
    const started = performance.now();
    for (const text of [
      'key'.repeat(1_000_000),
      'key,'.repeat(500_000),
      `${'x'.repeat(1_000_000)}key${'y'.repeat(1_000_000)}`,
      'token=1234567890abcdefgh'.repeat(50_000),
    ]) {
      const bytes = Buffer.from(text);
      findHighEntropyAssignmentsInSpans(bytes, planSecretScan('a.txt', bytes).entropySpans);
    }
    // A complexity guard, not a speed goal: backtracking would take minutes, so the bound is loose.
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});

describe('UTF-8 decoding, as the pre-filter relies on it', () => {
  /** Random bytes: ASCII, break characters, valid and broken multi-byte sequences. */
  function randomBytesWithText(length: number): Buffer {
    const pieces = ['a', 'Z', '_', '=', ' ', '\n', '\r', ',', '(', 'é', '日', '😀', '\uFEFF'].map((p) =>
      Buffer.from(p),
    );
    pieces.push(Buffer.from([0xff]), Buffer.from([0x80]), Buffer.from([0xc3]), Buffer.from([0xe6, 0x97]));
    const out: Buffer[] = [];
    for (const b of randomBytes(length)) out.push(pieces[b % pieces.length]);
    return Buffer.concat(out);
  }

  it('keeps every ASCII run of the bytes as it is, and makes no other', () => {
    for (let run = 0; run < 300; run++) {
      const bytes = randomBytesWithText(40);
      const runs = (s: string) => s.split(/[^\x00-\x7f]+/).filter(Boolean);
      expect(runs(bytes.toString('utf8'))).toEqual(runs(bytes.toString('latin1')));
    }
  });

  it('decodes the text between two break characters the same on its own', () => {
    const breakBytes = new Set([...ASSIGNMENT_BREAKS].map((c) => c.charCodeAt(0)));
    for (let run = 0; run < 300; run++) {
      const bytes = randomBytesWithText(40);
      const pieces: string[] = [];
      let start = 0;
      for (let i = 0; i <= bytes.length; i++) {
        if (i < bytes.length && !breakBytes.has(bytes[i])) continue;
        pieces.push(bytes.toString('utf8', start, i));
        if (i < bytes.length) pieces.push(String.fromCharCode(bytes[i]));
        start = i + 1;
      }
      expect(pieces.join('')).toEqual(bytes.toString('utf8'));
    }
  });
});
