// `node dist/bench/secret-detection.js`: how well the secret scan finds credentials, and how
// rarely it flags what is not one, on a corpus this file builds at run time (so the repository
// holds no string a scanner would flag):
//
// - every provider rule's token (test/support/secret-samples.ts) in every file context the
//   name-based rule knows (.env, shell export, INI, properties, YAML, JSON, JSON strings holding
//   KEY=value, HCL, Go `:=`/backticks/`var … string =`, PHP `=`/`.=`/define/`=>`, Java
//   System.setProperty, logstash `=>`, Makefile `:=`/`::=`/`:::=`/`?=`, XML elements, Dockerfile
//   ENV/ARG), each as a file of its own;
// - generic secrets (random values and short passwords) under secret names in the same contexts;
// - realistic files with secrets planted among ordinary lines: a Node app's .env, a kubeconfig, a
//   Docker config.json, an .npmrc, a Terraform state, a Java properties file, Go and PHP sources;
// - false-positive samples: every token's placeholder in every context (`ghp_xxxx…`), the issue's
//   near misses (`AKIAXXXX…`, `xoxb-12345-…`, a Maven coordinate, a Slack-looking word in an image
//   URL), references, templates, versions, digests, ids and the ordinary lines of the realistic
//   files.
//
// Recall: positives with a finding on their line. False-positive rate: negative samples with any
// finding. Throughput: the corpus and 40 MB of real text files (this repository's node_modules)
// scanned in-process, MB per second of CPU, side by side in the same run with the build before the
// rule table (BASELINE_REV, built from git history by lib-baseline-build.ts and kept in /tmp):
// the target is a ratio of at least 1. SECRET_DETECTION_BASELINE=<a dist folder of another build>
// compares with that build instead, `none` with nothing.
// The pre-filter must not change a single finding: the corpus is also scanned without it.
//
// Settings: SECRET_DETECTION_RUNS=3, SECRET_DETECTION_REAL_MB=40, SECRET_DETECTION_BASELINE,
// BENCH_DOC=docs/benchmarks.md|none.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { scanFileForSecrets, type SecretFinding } from '../libs/scan';
import {
  makeToken,
  placeholderToken,
  sampleLine,
  seededRandom,
  TOKEN_SAMPLES,
  type TokenSample,
} from '../test/support/secret-samples';
import { baselineBuild } from './lib-baseline-build';
import { fmt, machineInfo, median, writeMarkedSection } from './lib-report';

const env = process.env;
const RUNS = Math.max(1, Number(env.SECRET_DETECTION_RUNS ?? 3));
const REAL_MB = Math.max(1, Number(env.SECRET_DETECTION_REAL_MB ?? 40));
const DOC = env.BENCH_DOC ?? 'docs/benchmarks.md';
/** The last commit before the provider rule table (e3c016f): the throughput target's "before". */
const BASELINE_REV = '0893a8f';
const LAYER = `sha256:${'0'.repeat(64)}`;
const TARGET =
  'recall ≥ 95% and false-positive rate ≤ 2% on the corpus, scan throughput no lower than before';

interface Sample {
  /** Where it came from, for the report: `provider/<rule>`, `assignment`, `file:<name>`. */
  kind: string;
  context: string;
  path: string;
  content: string;
  /** 1-based lines that hold a secret (positives); empty for a negative sample. */
  secretLines: number[];
}

/** A file context: how a name and a value become a file, and the file's path. */
interface Context {
  name: string;
  path: string;
  /** The file's text and the line (1-based) the value is on. */
  render(name: string, value: string): { content: string; line: number };
}

const lines = (...ls: string[]) => `${ls.join('\n')}\n`;
const snake = (n: string) => n.toUpperCase();
const camel = (n: string) => n.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

const CONTEXTS: readonly Context[] = [
  {
    name: '.env',
    path: 'srv/app/.env',
    render: (n, v) => ({ content: lines('NODE_ENV=production', `${snake(n)}=${v}`), line: 2 }),
  },
  {
    name: 'shell export',
    path: 'srv/app/deploy.sh',
    render: (n, v) => ({
      content: lines('#!/bin/sh', `export ${snake(n)}="${v}"`, 'exec node main.js'),
      line: 2,
    }),
  },
  {
    name: 'INI',
    path: 'etc/app/app.ini',
    render: (n, v) => ({ content: lines('[service]', `${n.toLowerCase()} = ${v}`), line: 2 }),
  },
  {
    name: 'properties',
    path: 'srv/app/application.properties',
    render: (n, v) => ({
      content: lines('server.port=8080', `app.${n.toLowerCase().replace(/_/g, '.')}=${v}`),
      line: 2,
    }),
  },
  {
    name: 'YAML',
    path: 'srv/app/config.yaml',
    render: (n, v) => ({
      content: lines('service:', '  replicas: 2', `  ${n.toLowerCase()}: "${v}"`),
      line: 3,
    }),
  },
  {
    name: 'JSON',
    path: 'srv/app/config.json',
    render: (n, v) => ({ content: lines('{', '  "port": 8080,', `  "${camel(n)}": "${v}"`, '}'), line: 3 }),
  },
  {
    name: 'JSON string KEY=value',
    path: 'srv/app/task.json',
    render: (n, v) => ({
      content: lines('{', `  "env": ["NODE_ENV=production", "${snake(n)}=${v}"]`, '}'),
      line: 2,
    }),
  },
  {
    name: 'HCL',
    path: 'srv/infra/main.tf',
    render: (n, v) => ({
      content: lines('provider "acme" {', `  ${n.toLowerCase()} = "${v}"`, '}'),
      line: 2,
    }),
  },
  {
    name: 'Go :=',
    path: 'srv/app/main.go',
    render: (n, v) => ({ content: lines('func main() {', `\t${camel(n)} := "${v}"`, '}'), line: 2 }),
  },
  {
    name: 'Go backticks',
    path: 'srv/app/conf.go',
    render: (n, v) => ({ content: lines('func conf() {', `\t${camel(n)} := \`${v}\``, '}'), line: 2 }),
  },
  {
    name: 'Go var typed',
    path: 'srv/app/vars.go',
    render: (n, v) => ({ content: lines('package main', '', `var ${camel(n)} string = "${v}"`), line: 3 }),
  },
  {
    name: 'PHP =',
    path: 'var/www/config.php',
    render: (n, v) => ({ content: lines('<?php', `$${n.toLowerCase()} = '${v}';`), line: 2 }),
  },
  {
    name: 'PHP .=',
    path: 'var/www/build.php',
    render: (n, v) => ({
      content: lines('<?php', `$${n.toLowerCase()} = '';`, `$${n.toLowerCase()} .= "${v}";`),
      line: 3,
    }),
  },
  {
    name: 'PHP define',
    path: 'var/www/wp-config.php',
    render: (n, v) => ({ content: lines('<?php', `define('${snake(n)}', '${v}');`), line: 2 }),
  },
  {
    name: 'PHP array =>',
    path: 'var/www/settings.php',
    render: (n, v) => ({
      content: lines('<?php', 'return [', `    '${n.toLowerCase()}' => '${v}',`, '];'),
      line: 3,
    }),
  },
  {
    name: 'Java setProperty',
    path: 'srv/app/Main.java',
    render: (n, v) => ({
      content: lines('class Main {', `  static { System.setProperty("${snake(n)}", "${v}"); }`, '}'),
      line: 2,
    }),
  },
  {
    name: 'logstash =>',
    path: 'etc/logstash/conf.d/out.conf',
    render: (n, v) => ({
      content: lines('output {', '  http {', `    "${n.toLowerCase()}" => "${v}"`, '  }', '}'),
      line: 3,
    }),
  },
  {
    name: 'Makefile :=',
    path: 'srv/app/Makefile',
    render: (n, v) => ({ content: lines(`${snake(n)} := ${v}`, 'all:', '\t@echo ok'), line: 1 }),
  },
  {
    name: 'Makefile ::=',
    path: 'srv/app/GNUmakefile',
    render: (n, v) => ({ content: lines(`${snake(n)} ::= ${v}`), line: 1 }),
  },
  {
    name: 'Makefile :::=',
    path: 'srv/app/rules.mk',
    render: (n, v) => ({ content: lines(`${snake(n)} :::= ${v}`), line: 1 }),
  },
  {
    name: 'Makefile ?=',
    path: 'srv/app/defaults.mk',
    render: (n, v) => ({ content: lines(`${snake(n)} ?= ${v}`), line: 1 }),
  },
  {
    name: 'XML element',
    path: 'srv/app/settings.xml',
    render: (n, v) => ({
      content: lines('<settings>', `  <${camel(n)}>${v}</${camel(n)}>`, '</settings>'),
      line: 2,
    }),
  },
  {
    name: 'Dockerfile ENV',
    path: 'srv/app/Dockerfile',
    render: (n, v) => ({ content: lines('FROM node:24', `ENV ${snake(n)}=${v}`), line: 2 }),
  },
  {
    name: 'Dockerfile ENV space',
    path: 'srv/app/Dockerfile.legacy',
    render: (n, v) => ({ content: lines('FROM node:24', `ENV ${snake(n)} ${v}`), line: 2 }),
  },
  {
    name: 'Dockerfile ARG',
    path: 'srv/app/Dockerfile.build',
    render: (n, v) => ({ content: lines('FROM node:24', `ARG ${snake(n)}=${v}`), line: 2 }),
  },
];

/** The variable a token is assigned to: its own for named rules, else a neutral secret name. */
const nameFor = (s: TokenSample) => s.name ?? 'service_token';

function tokenSamples(random: () => number): { positives: Sample[]; negatives: Sample[] } {
  const positives: Sample[] = [];
  const negatives: Sample[] = [];
  for (const s of TOKEN_SAMPLES) {
    const kind = `provider/${s.rule}`;
    const real = makeToken(s, random);
    const fake = placeholderToken(s);
    if (s.line) {
      const path = s.path ?? 'srv/app/settings.conf';
      positives.push({
        kind,
        context: 'own format',
        path,
        content: lines('# settings', sampleLine(s, real)),
        secretLines: [2],
      });
      negatives.push({
        kind,
        context: 'own format',
        path,
        content: lines('# settings', sampleLine(s, fake)),
        secretLines: [],
      });
      continue;
    }
    for (const c of CONTEXTS) {
      const p = c.render(nameFor(s), real);
      positives.push({
        kind,
        context: c.name,
        path: s.path ?? c.path,
        content: p.content,
        secretLines: [p.line],
      });
      negatives.push({
        kind,
        context: c.name,
        path: s.path ?? c.path,
        content: c.render(nameFor(s), fake).content,
        secretLines: [],
      });
    }
  }
  return { positives, negatives };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const pick = (random: () => number, alphabet: string, n: number) =>
  Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');

/** A value with at least one digit and both cases, as generated credentials have. */
function randomValue(random: () => number, n: number): string {
  return `${pick(random, 'ABCDEFGHJKLMNPQRSTUVWXYZ', 1)}${pick(random, '23456789', 1)}${pick(random, 'abcdefghijkmnopqrstuvwxyz', 1)}${pick(random, ALNUM, n - 3)}`;
}

const GENERIC_NAMES = ['db_password', 'api_key', 'client_secret', 'auth_token', 'secret_key', 'access_token'];

function assignmentSamples(random: () => number): Sample[] {
  const samples: Sample[] = [];
  for (const c of CONTEXTS)
    for (const name of GENERIC_NAMES) {
      const long = c.render(name, randomValue(random, 28));
      samples.push({
        kind: 'assignment',
        context: c.name,
        path: c.path,
        content: long.content,
        secretLines: [long.line],
      });
    }
  // Short passwords: quoted or at the start of a line, where a value is a literal.
  for (const c of CONTEXTS) {
    const pw = `${randomValue(random, 9)}!`;
    const p = c.render('db_password', pw);
    samples.push({
      kind: 'assignment (short password)',
      context: c.name,
      path: c.path,
      content: p.content,
      secretLines: [p.line],
    });
  }
  return samples;
}

/** Realistic files: secrets planted among ordinary lines. `@n` marks a planted secret's line. */
function realisticFiles(random: () => number): { positives: Sample[]; negatives: Sample[] } {
  const t = (rule: string) =>
    makeToken(
      TOKEN_SAMPLES.find((s) => s.rule === rule)!,
      random,
    );
  const v = (n = 28) => randomValue(random, n);
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const files: Array<{ name: string; path: string; text: string }> = [
    {
      name: "Node app's .env",
      path: 'srv/app/.env',
      text: lines(
        '# Production settings',
        'NODE_ENV=production',
        'PORT=3000',
        'LOG_LEVEL=info',
        'PUBLIC_URL=https://shop.acme.io',
        `DATABASE_URL=postgres://shop:${v(20)}@db.internal:5432/shop @`,
        'REDIS_URL=redis://cache.internal:6379/0',
        `STRIPE_SECRET_KEY=${t('stripe-secret-key')} @`,
        `STRIPE_WEBHOOK_SECRET=${t('stripe-webhook-secret')} @`,
        'STRIPE_PUBLISHABLE_KEY_NAME=checkout',
        `SENTRY_DSN=https://${'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6'}@o1.ingest.sentry.io/42`,
        `SESSION_SECRET=${v(40)} @`,
        `JWT_SIGNING_KEY=${v(48)} @`,
        'JWT_ISSUER=https://shop.acme.io',
        'JWT_TTL_SECONDS=3600',
        `SENDGRID_API_KEY=SG.${pick(random, ALNUM, 22)}.${pick(random, ALNUM, 43)} @`,
        `GITHUB_TOKEN=${t('github-pat')} @`,
        'FEATURE_FLAGS=checkout-v2,search',
        'API_KEY_HEADER=X-Api-Key',
        'TOKEN_EXPIRY=15m',
        `OPENAI_API_KEY=${t('openai-api-key')} @`,
        `DATADOG_API_KEY=${t('datadog-api-key').slice(0, 32)} @`,
        'AWS_REGION=eu-west-1',
        `AWS_ACCESS_KEY_ID=${t('aws-access-key-id')} @`,
        `AWS_SECRET_ACCESS_KEY=${pick(random, ALNUM, 40)} @`,
        'S3_BUCKET=acme-shop-assets',
      ),
    },
    {
      name: 'kubeconfig',
      path: 'root/.kube/config',
      text: lines(
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- cluster:',
        `    certificate-authority-data: ${b64('-----BEGIN CERTIFICATE-----\nMIIB' + pick(random, ALNUM, 60))}`,
        '    server: https://k8s.acme.io:6443',
        '  name: prod',
        'contexts:',
        '- context:',
        '    cluster: prod',
        '    user: deployer',
        '  name: prod',
        'current-context: prod',
        'users:',
        '- name: deployer',
        '  user:',
        `    token: ${v(40)} @`,
        '- name: admin',
        '  user:',
        `    client-key-data: ${b64('-----BEGIN RSA PRIVATE KEY-----\n' + pick(random, ALNUM, 120))} @`,
      ),
    },
    {
      name: 'Docker config.json',
      path: 'root/.docker/config.json',
      text: lines(
        '{',
        '  "auths": {',
        `    "registry.acme.io": { "auth": "${b64(`deployer:${v(24)}`)}" }, @`,
        '    "ghcr.io": { "auth": "' + b64(`acme-bot:${t('github-pat')}`) + '" } @',
        '  },',
        '  "credsStore": "desktop",',
        '  "currentContext": "default"',
        '}',
      ),
    },
    {
      name: '.npmrc',
      path: 'home/node/.npmrc',
      text: lines(
        'registry=https://registry.npmjs.org/',
        '@acme:registry=https://npm.pkg.github.com/',
        `//npm.pkg.github.com/:_authToken=${t('github-pat')} @`,
        `//registry.npmjs.org/:_authToken=${t('npm-token')} @`,
        'always-auth=true',
        'save-exact=true',
      ),
    },
    {
      name: 'Terraform state',
      path: 'srv/infra/terraform.tfstate',
      text: lines(
        '{',
        '  "version": 4,',
        '  "terraform_version": "1.9.5",',
        '  "resources": [',
        '    {',
        '      "type": "aws_db_instance",',
        '      "name": "main",',
        '      "instances": [{ "attributes": {',
        '        "engine": "postgres",',
        '        "username": "app",',
        `        "password": "${v(24)}", @`,
        '        "kms_key_id": "arn:aws:kms:eu-west-1:123456789012:key/1b2c3d4e-5f6a-7b8c-9d0e-1f2a3b4c5d6e",',
        '        "storage_encrypted": true',
        '      } }]',
        '    },',
        '    {',
        '      "type": "aws_iam_access_key",',
        '      "name": "ci",',
        '      "instances": [{ "attributes": {',
        `        "id": "${t('aws-access-key-id')}", @`,
        `        "secret": "${pick(random, ALNUM, 40)}", @`,
        '        "status": "Active"',
        '      } }]',
        '    }',
        '  ]',
        '}',
      ),
    },
    {
      name: 'Java properties',
      path: 'srv/app/application.properties',
      text: lines(
        'spring.application.name=orders',
        'server.port=8080',
        'spring.datasource.url=jdbc:postgresql://db.internal:5432/orders',
        'spring.datasource.username=orders',
        `spring.datasource.password=${v(12)}! @`,
        'spring.jpa.hibernate.ddl-auto=validate',
        `app.jwt.secret=${v(44)} @`,
        'app.jwt.token-validity-seconds=86400',
        'management.endpoints.web.exposure.include=health,info',
        `mail.smtp.password=${v(16)} @`,
        'logging.level.root=INFO',
      ),
    },
    {
      name: 'Go source',
      path: 'srv/app/internal/config/config.go',
      text: lines(
        'package config',
        '',
        'import "os"',
        '',
        'const defaultTimeout = 30',
        '',
        `var apiToken string = "${v(32)}" @`,
        '',
        'func Load() *Config {',
        `\tslackToken := "${t('slack-bot-token')}" @`,
        '\tregion := os.Getenv("AWS_REGION")',
        '\ttokenURL := "https://auth.acme.io/oauth/token"',
        `\tsigningKey := \`${v(40)}\` @`,
        '\tpassword := os.Getenv("DB_PASSWORD")',
        '\treturn &Config{Region: region, TokenURL: tokenURL, Password: password, Slack: slackToken, Key: signingKey}',
        '}',
      ),
    },
    {
      name: 'PHP source',
      path: 'var/www/html/wp-config.php',
      text: lines(
        '<?php',
        "define('DB_NAME', 'wordpress');",
        "define('DB_USER', 'wp');",
        `define('DB_PASSWORD', '${v(14)}!'); @`,
        "define('DB_HOST', 'db.internal');",
        `define('AUTH_KEY', '${v(64)}'); @`,
        `define('SECURE_AUTH_KEY', '${v(64)}'); @`,
        "$table_prefix = 'wp_';",
        '$token = $_GET["token"] ?? null;',
        `$mailgun_key = 'key-${pick(random, '0123456789abcdef', 32)}'; @`,
        "$password = getenv('SMTP_PASSWORD');",
        "require_once ABSPATH . 'wp-settings.php';",
      ),
    },
  ];
  const positives: Sample[] = [];
  const negatives: Sample[] = [];
  for (const f of files) {
    const all = f.text.split('\n');
    const secretLines: number[] = [];
    const clean = all.map((l, i) => {
      if (l.endsWith(' @')) {
        secretLines.push(i + 1);
        return l.slice(0, -2);
      }
      return l;
    });
    positives.push({
      kind: `file:${f.name}`,
      context: f.name,
      path: f.path,
      content: clean.join('\n'),
      secretLines,
    });
    // Each ordinary line is a negative sample of its own, in a file of the same name.
    clean.forEach((l, i) => {
      if (!secretLines.includes(i + 1) && l.trim())
        negatives.push({
          kind: `file:${f.name}`,
          context: f.name,
          path: f.path,
          content: `${l}\n`,
          secretLines: [],
        });
    });
  }
  return { positives, negatives };
}

/** The issue's near misses and the values a secret name often holds that are not secrets. */
function nearMisses(): Sample[] {
  const texts = [
    'token: ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    'aws_access_key_id = AKIAXXXXXXXXXXXXXXXX',
    'aws_access_key_id = AKIAIOSFODNN7EXAMPLE',
    'SLACK_TOKEN=xoxb-12345-67890-abcdefghijklmnopqrstuvwx',
    '<img src="https://cdn.acme.io/img/xoxb-logo-512.png">',
    '<secretKey>org.apache.maven.plugins:maven-gpg-plugin:3.1.0</secretKey>',
    'API_TOKEN=${API_TOKEN}',
    'password: "{{ .Values.db.password }}"',
    'GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}',
    'const token = process.env.API_TOKEN;',
    'api_key = settings.STRIPE_API_KEY',
    'password = getpass.getpass()',
    'token_url: https://auth.acme.io/oauth/token',
    'token_version: 1.24.3-beta.1',
    'secret_name: prod-db-credentials',
    'request_token_id: 0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d',
    'private_key_path = /etc/ssl/private/server.key',
    'password: changeme',
    'password: <password>',
    'API_KEY=your_api_key_here',
    'DB_PASSWORD=example-password',
    'token: true',
    'secret = DEFAULT_SECRET_VALUE',
    'if (token === "")',
    'monkey = 8f14e45fceea167a5a36dedd4bea2543',
    'publicKey: "MCowBQYDK2VwAyEAbXVjaGJvcmluZ3B1YmxpY2tleQ"',
    'cache_key: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    'key: value',
    'primary_key = user_id',
    'passwordPolicy: strict',
    'tokenizer = WordPieceTokenizer()',
    // Random-looking values that are not credentials, under names that are not a secret's.
    'commit_sha: 3f9a2c7e1b4d8f6a0c5e9b2d7f1a4c8e6b3d0f9a',
    'integrity: sha512-Vq3mR8xT2pL9wN4kZ7bY1cF6hJ0sD5gA8eU3iO2yQ7rM4nB9vX1tK6wP0zL5jH2g==',
    'image: registry.acme.io/shop/api@sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0',
    'request_id = "8c7b6a59-4837-2615-0a9b-8c7d6e5f4a3b"',
    'build_id: 20261207.4.b7f3e9a1c2d4',
    'etag: "W/5f2b8c1d9e7a3f6b"',
    'nonce = crypto.randomBytes(16)',
    'x-request-id: Zr8pQ2vX9kLm4NwT7yB3',
    'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'session_cookie_name = __Host-session',
    'password_min_length: 12',
    'token_endpoint_auth_method: client_secret_basic',
    'KEY_ALGORITHM=RS256',
    'secretRef: { name: db-credentials, key: password }',
    'public_key_fingerprint = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"',
  ];
  return texts.map((content, i) => ({
    kind: 'near miss',
    context: `near miss ${i + 1}`,
    path: 'srv/app/settings.conf',
    content: `${content}\n`,
    secretLines: [],
  }));
}

interface Scanner {
  scan(
    file: { path: string; content: Buffer },
    layer: string,
    options?: { prefilter?: boolean },
  ): Promise<SecretFinding[]>;
}

function loadScanner(dist: string): Scanner {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(join(dist, 'libs/scan/secret-scanner.js')) as { scanFileForSecrets: Scanner['scan'] };
  return { scan: mod.scanFileForSecrets };
}

function realTextFiles(root: string, budget: number): Array<{ path: string; content: Buffer }> {
  const files: Array<{ path: string; content: Buffer }> = [];
  let total = 0;
  const walk = (dir: string): boolean => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    } catch {
      return false;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (walk(p)) return true;
      } else if (e.isFile()) {
        const size = statSync(p).size;
        if (size === 0 || size > 2 * 1024 * 1024) continue;
        const content = readFileSync(p);
        if (content.subarray(0, 8000).includes(0)) continue;
        files.push({ path: p.slice(root.length + 1), content });
        total += content.length;
        if (total >= budget) return true;
      }
    }
    return false;
  };
  walk(root);
  return files;
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
}

async function scanAll(
  scanner: Scanner,
  files: ReadonlyArray<{ path: string; content: Buffer }>,
): Promise<number> {
  const start = process.cpuUsage();
  for (const f of files) await scanner.scan(f, LAYER);
  return cpuMs(start);
}

async function main(): Promise<void> {
  const started = performance.now();
  const random = seededRandom(2026);
  const tokens = tokenSamples(random);
  const real = realisticFiles(random);
  const positives = [...tokens.positives, ...assignmentSamples(random), ...real.positives];
  const negatives = [...tokens.negatives, ...nearMisses(), ...real.negatives];
  const corpus = [...positives, ...negatives];

  // Detection, and the pre-filter's equivalence.
  let found = 0;
  let total = 0;
  let falsePositives = 0;
  let prefilterDiffers = 0;
  const missedBy = new Map<string, number>();
  /** Per corpus group: files, secrets, found. */
  const groups = new Map<string, { files: number; secrets: number; found: number }>();
  const groupOf = (kind: string) =>
    kind.startsWith('provider/') ? 'provider' : kind.startsWith('assignment') ? 'assignment' : 'file';
  const missedContexts = new Map<string, number>();
  const fpBy = new Map<string, number>();
  for (const s of corpus) {
    const file = { path: s.path, content: Buffer.from(s.content) };
    const findings = await scanFileForSecrets(file, LAYER);
    const reference = await scanFileForSecrets(file, LAYER, { prefilter: false });
    if (JSON.stringify(findings) !== JSON.stringify(reference)) prefilterDiffers += 1;
    if (s.secretLines.length === 0) {
      if (findings.length > 0) {
        falsePositives += 1;
        fpBy.set(`${s.kind} (${s.context})`, (fpBy.get(`${s.kind} (${s.context})`) ?? 0) + 1);
      }
      continue;
    }
    const g = groups.get(groupOf(s.kind)) ?? { files: 0, secrets: 0, found: 0 };
    groups.set(groupOf(s.kind), g);
    g.files += 1;
    for (const line of s.secretLines) {
      total += 1;
      g.secrets += 1;
      if (findings.some((f) => f.line === line)) {
        found += 1;
        g.found += 1;
        continue;
      } else {
        missedBy.set(s.kind, (missedBy.get(s.kind) ?? 0) + 1);
        missedContexts.set(s.context, (missedContexts.get(s.context) ?? 0) + 1);
      }
    }
  }
  const recall = found / total;
  const fpRate = falsePositives / negatives.length;
  console.log(
    `corpus: ${positives.length} positive files (${total} secrets), ${negatives.length} negative samples`,
  );
  console.log(
    `recall ${fmt(recall * 100, 2)}% (${found}/${total}); false positives ${fmt(fpRate * 100, 2)}% (${falsePositives}/${negatives.length}); pre-filter differs on ${prefilterDiffers} files`,
  );
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  console.log(`missed by kind: ${top(missedBy)}`);
  console.log(`missed by context: ${top(missedContexts)}`);
  console.log(`false positives: ${top(fpBy)}`);

  // Throughput: the corpus and real text files, CPU time, this build (and a baseline build).
  const corpusFiles = corpus.map((s) => ({ path: s.path, content: Buffer.from(s.content) }));
  const realFiles = realTextFiles(join(__dirname, '..', '..', 'node_modules'), REAL_MB * 1e6);
  const realBytes = realFiles.reduce((n, f) => n + f.content.length, 0);
  const corpusBytes = corpusFiles.reduce((n, f) => n + f.content.length, 0);
  const current: Scanner = { scan: scanFileForSecrets };
  const baselineDist = baselineBuild(
    BASELINE_REV,
    env.SECRET_DETECTION_BASELINE,
    join(__dirname, '..', '..'),
  );
  const baselineName = env.SECRET_DETECTION_BASELINE ? baselineDist : `the build at ${BASELINE_REV}`;
  const baseline = baselineDist ? loadScanner(baselineDist) : undefined;
  const realFindings = async (scanner: Scanner) => {
    let n = 0;
    for (const f of realFiles) n += (await scanner.scan(f, LAYER)).length;
    return n;
  };
  const runs: Record<'current' | 'baseline', { real: number[]; corpus: number[] }> = {
    current: { real: [], corpus: [] },
    baseline: { real: [], corpus: [] },
  };
  // Warm both up once, then alternate, so load on the machine falls on both alike.
  await scanAll(current, realFiles);
  if (baseline) await scanAll(baseline, realFiles);
  for (let r = 0; r < RUNS; r++) {
    runs.current.real.push(await scanAll(current, realFiles));
    runs.current.corpus.push(await scanAll(current, corpusFiles));
    if (baseline) {
      runs.baseline.real.push(await scanAll(baseline, realFiles));
      runs.baseline.corpus.push(await scanAll(baseline, corpusFiles));
    }
  }
  const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
  const tput = (k: 'current' | 'baseline') => ({
    real: mbps(realBytes, median(runs[k].real)),
    corpus: mbps(corpusBytes, median(runs[k].corpus)),
  });
  const now = tput('current');
  const before = baseline ? tput('baseline') : undefined;
  const nowFindings = await realFindings(current);
  const beforeFindings = baseline ? await realFindings(baseline) : undefined;
  console.log(
    `throughput (MB per CPU second, median of ${RUNS}): real files ${fmt(now.real, 1)}, corpus ${fmt(now.corpus, 1)}` +
      (before
        ? `; baseline ${baselineName}: real files ${fmt(before.real, 1)}, corpus ${fmt(before.corpus, 1)}`
        : ''),
  );
  const ratio = before ? now.real / before.real : undefined;
  if (ratio !== undefined)
    console.log(
      `throughput ratio on real files, this build / ${baselineName}: ${fmt(ratio, 2)} (target ≥ 1.00: ${ratio >= 1 ? 'met' : 'missed'})`,
    );
  console.log(
    `findings in ${fmt(realBytes / 1e6, 1)} MB of real files: ${nowFindings}${beforeFindings !== undefined ? ` (baseline ${beforeFindings})` : ''}`,
  );

  if (DOC === 'none') return;
  const m = machineInfo();
  const row = (title: string, group: string) => {
    const g = groups.get(group) ?? { files: 0, secrets: 0, found: 0 };
    return `| ${title} | ${g.files} | ${g.secrets} | ${g.found} | ${fmt((g.found / Math.max(1, g.secrets)) * 100, 1)}% |`;
  };
  const met =
    recall >= 0.95 && fpRate <= 0.02 && prefilterDiffers === 0 && (ratio === undefined || ratio >= 1);
  const section = `## Secret detection

Measured by \`node dist/bench/secret-detection.js\` (bench/secret-detection.ts) on ${m.date}, at ${m.revision}: ${m.cpus}, ${m.memory}, Node ${m.node}. The run took ${fmt((performance.now() - started) / 1000)} s.

Target: “${TARGET}”. **${met ? 'Met' : 'Missed'}**: recall **${fmt(recall * 100, 1)}%**, false-positive rate **${fmt(fpRate * 100, 2)}%**, the pre-filter changed ${prefilterDiffers} of ${corpus.length} files' findings${before ? `; throughput ${fmt(now.real, 1)} MB per CPU second on real files where the build before this rule table (${BASELINE_REV}, same run) read ${fmt(before.real, 1)}: a ratio of **${fmt(ratio!, 2)}**` : ''}.

| corpus | files | secrets | found | recall |
| ------ | ----: | ------: | ----: | -----: |
${row(`${TOKEN_SAMPLES.length} provider rules' tokens × ${CONTEXTS.length} contexts (or their own format)`, 'provider')}
${row(`generic secrets and short passwords under secret names, ${CONTEXTS.length} contexts`, 'assignment')}
${row('realistic files (.env, kubeconfig, Docker config.json, .npmrc, Terraform state, Java properties, Go, PHP)', 'file')}
| **all** | ${positives.length} | ${total} | ${found} | ${fmt(recall * 100, 1)}% |

Negative samples: ${negatives.length} (every token's placeholder in every context, ${nearMisses().length} near misses from the issue and common non-secret values, ${real.negatives.length} ordinary lines of the realistic files); ${falsePositives} flagged.

Missed: ${top(missedBy)}. By context: ${top(missedContexts)}. False positives: ${top(fpBy)}.

Throughput, MB per CPU second (median of ${RUNS}, in-process, \`scanFileForSecrets\` file by file): ${fmt(realBytes / 1e6, 1)} MB of real text files (this repository's node_modules) **${fmt(now.real, 1)}**${before ? ` (before: ${fmt(before.real, 1)})` : ''}; the corpus ${fmt(now.corpus, 1)}${before ? ` (before: ${fmt(before.corpus, 1)})` : ''}. Findings in those real files: ${nowFindings}${beforeFindings !== undefined ? ` (before: ${beforeFindings})` : ''}.
`;
  await writeMarkedSection(DOC, 'secret-detection', section);
  console.log(`wrote the secret-detection section of ${DOC}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
