// Samples of every provider rule's token, made at run time from a description of the format (so
// the repository holds no string a secret scanner would flag): a true positive, and false positives
// of the same shape (the random part replaced by a placeholder). Shared by the rule tests
// (libs/scan/provider-rules.spec.ts) and the detection benchmark (bench/secret-detection.ts).
import { crc32 } from 'node:zlib';

const DIGITS = '0123456789';
const HEX = '0123456789abcdef';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const ALNUM = `${UPPER}${LOWER}${DIGITS}`;
const LOWER_ALNUM = `${LOWER}${DIGITS}`;
const UPPER_ALNUM = `${UPPER}${DIGITS}`;
const B64 = `${ALNUM}+/`;
const B64URL = `${ALNUM}_-`;
const BASE32_LOWER = `${LOWER}234567`;
const AWS_BASE32 = `${UPPER}234567`;
const BECH32 = 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L';
const BASE62 = `${DIGITS}${UPPER}${LOWER}`;

/** A run of `n` random characters of `from`. */
interface Random {
  from: string;
  n: number;
  /** Upper-case hex for a UUID, say: kept as the alphabet says. */
}
type Part = string | Random | { checksumOf: Random };

const r =
  (from: string) =>
  (n: number): Random => ({ from, n });
const A = r(ALNUM);
const L = r(LOWER_ALNUM);
const U = r(UPPER_ALNUM);
const H = r(HEX);
const D = r(DIGITS);
const W = r(B64URL);
const B = r(B64);
const LETTERS = r(`${UPPER}${LOWER}`);

/** A template of literal text and random runs: t`ghp_${A(36)}`. */
function t(strings: TemplateStringsArray, ...parts: Array<Random | { checksumOf: Random }>): Part[] {
  const out: Part[] = [];
  strings.forEach((s, i) => {
    if (s) out.push(s);
    if (i < parts.length) out.push(parts[i]);
  });
  return out;
}

const uuid = (): Part[] => t`${H(8)}-${H(4)}-${H(4)}-${H(4)}-${H(12)}`;

export interface TokenSample {
  /** The provider rule (`provider/<rule>` finding ids). */
  rule: string;
  token: Part[];
  /**
   * The variable the token is assigned to in a file. Named rules (a bare value the rule finds by
   * its name) need their provider's word in it; others get a neutral name.
   */
  name?: string;
  /** A whole line to put the token in, for formats with their own syntax; `$T` is the token. */
  line?: string;
  /** The file the line belongs in, when the rule looks only at some paths. */
  path?: string;
}

const s = (rule: string, token: Part[], name?: string): TokenSample => ({
  rule,
  token,
  ...(name ? { name } : {}),
});

/** One sample per provider rule (the PKCS#12 rule looks at names only: see PKCS12_PATHS). */
export const TOKEN_SAMPLES: readonly TokenSample[] = [
  // Cloud
  s('aws-access-key-id', t`AKIA${r(AWS_BASE32)(16)}`),
  s('aws-bedrock-api-key', t`ABSK${B(120)}`),
  s('aws-secret-access-key', t`${B(40)}`, 'aws_secret_access_key'),
  s('gcp-api-key', t`AIza${W(35)}`),
  s('google-oauth-client-secret', t`GOCSPX-${W(28)}`),
  s('google-oauth-refresh-token', t`1//0${W(80)}`),
  s('firebase-cloud-messaging-key', t`AAAA${W(7)}:APA91b${W(134)}`),
  s('azure-ad-client-secret', t`${A(3)}8Q~${A(34)}`),
  {
    rule: 'azure-storage-account-key',
    token: t`${B(86)}==`,
    line: 'AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey=$T;EndpointSuffix=core.windows.net"',
  },
  {
    rule: 'azure-sas-token',
    token: t`${A(43)}%3D`,
    line: 'BLOB_URL=https://acmeprod.blob.core.windows.net/backups?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2027-01-01T00:00:00Z&sig=$T',
  },
  s('azure-devops-pat', t`${r(BASE32_LOWER)(52)}`, 'AZURE_DEVOPS_PAT'),
  s('alibaba-access-key-id', t`LTAI${A(20)}`),
  s('alibaba-secret-key', t`${A(30)}`, 'ALIBABA_ACCESS_KEY_SECRET'),
  s('digitalocean-pat', t`dop_v1_${H(64)}`),
  s('digitalocean-oauth-token', t`doo_v1_${H(64)}`),
  s('digitalocean-refresh-token', t`dor_v1_${H(64)}`),
  s('cloudflare-api-token', t`${W(40)}`, 'CLOUDFLARE_API_TOKEN'),
  s('cloudflare-global-api-key', t`${H(37)}`, 'CLOUDFLARE_GLOBAL_API_KEY'),
  s('cloudflare-origin-ca-key', t`v1.0-${H(24)}-${H(146)}`),
  s('heroku-api-key-v2', t`HRKU-AA${W(58)}`),
  s('heroku-api-key', uuid(), 'HEROKU_API_KEY'),
  s('flyio-token', t`fo1_${W(43)}`),
  s('render-api-key', t`rnd_${A(32)}`),
  s('scalingo-api-token', t`tk-us-${W(48)}`),
  s('openshift-user-token', t`sha256~${W(43)}`),
  { rule: 'kubeconfig-client-key', token: t`LS0t${B(160)}`, line: '    client-key-data: $T' },
  s('tencent-secret-id', t`AKID${A(32)}`),
  s('ibm-cloud-api-key-v2', [`ApiKey-`, ...uuid()]),
  s('ibm-cloud-api-key', t`${W(44)}`, 'IBM_CLOUD_API_KEY'),
  // Infrastructure
  s('vault-service-token', t`hvs.${W(100)}`),
  s('vault-batch-token', t`hvb.${W(150)}`),
  s('vault-recovery-token', t`hvr.${W(100)}`),
  s('terraform-cloud-token', t`${A(14)}.atlasv1.${W(67)}`),
  s('doppler-token', t`dp.pt.${A(43)}`),
  s('pulumi-access-token', t`pul-${H(40)}`),
  s('1password-secret-key', t`A3-${U(6)}-${U(11)}-${U(5)}-${U(5)}-${U(5)}`),
  s('1password-service-account-token', t`ops_eyJ${B(300)}`),
  s('age-secret-key', t`AGE-SECRET-KEY-1${r(BECH32)(58)}`),
  s('infracost-api-token', t`ico-${A(32)}`),
  s('tailscale-key', t`tskey-auth-${A(12)}-${A(30)}`),
  s('defined-networking-token', t`dnkey-${L(26)}-${L(52)}`),
  // Version control, CI/CD
  s('github-pat', t`ghp_${{ checksumOf: A(30) }}`),
  s('github-oauth-token', t`gho_${{ checksumOf: A(30) }}`),
  s('github-app-token', t`ghs_${{ checksumOf: A(30) }}`),
  s('github-refresh-token', t`ghr_${{ checksumOf: A(30) }}`),
  s('github-fine-grained-pat', t`github_pat_${A(22)}_${A(59)}`),
  s('gitlab-pat', t`glpat-${A(20)}`),
  s('gitlab-pat-routable', t`glpat-${W(30)}.01${L(7)}`),
  s('gitlab-deploy-token', t`gldt-${A(20)}`),
  s('gitlab-feature-flag-token', t`glffct-${A(20)}`),
  s('gitlab-feed-token', t`glft-${A(20)}`),
  s('gitlab-incoming-mail-token', t`glimt-${A(25)}`),
  s('gitlab-kubernetes-agent-token', t`glagent-${A(50)}`),
  s('gitlab-oauth-app-secret', t`gloas-${A(64)}`),
  s('gitlab-pipeline-trigger-token', t`glptt-${H(40)}`),
  s('gitlab-runner-registration-token', t`GR1348941${A(20)}`),
  s('gitlab-runner-token', t`glrt-t1_${A(27)}`),
  s('gitlab-scim-token', t`glsoat-${A(20)}`),
  s('gitlab-cicd-job-token', t`glcbt-64_${A(20)}`),
  s('gitlab-workspace-token', t`glwt-${A(20)}`),
  { rule: 'gitlab-session-cookie', token: t`_gitlab_session=${L(32)}`, line: 'Cookie: $T; path=/' },
  s('bitbucket-app-password', t`ATBB${A(32)}`),
  s('atlassian-api-token', t`ATATT3${W(186)}`),
  s('atlassian-legacy-token', t`${A(24)}`, 'JIRA_API_TOKEN'),
  s('buildkite-token', t`bkua_${H(40)}`),
  s('circleci-token', t`CCIPAT_${A(22)}_${H(40)}`),
  s('circleci-legacy-token', t`${H(40)}`, 'CIRCLECI_TOKEN'),
  s('travisci-token', t`${A(22)}`, 'TRAVIS_API_TOKEN'),
  s('droneci-token', t`${A(32)}`, 'DRONE_TOKEN'),
  s('sonarqube-token', t`squ_${H(40)}`),
  s('sonar-token', t`${L(40)}`, 'SONAR_TOKEN'),
  s('codecov-token', uuid(), 'CODECOV_TOKEN'),
  s('snyk-token', uuid(), 'SNYK_TOKEN'),
  s('octopus-deploy-api-key', t`API-${U(26)}`, 'OCTOPUS_API_KEY'),
  s('harness-token', t`pat.${W(22)}.${A(24)}.${A(20)}`),
  s('sourcegraph-token', t`sgp_${H(16)}_${H(40)}`),
  s('prefect-api-token', t`pnu_${A(36)}`),
  // Package registries
  s('npm-token', t`npm_${{ checksumOf: A(30) }}`),
  s('pypi-upload-token', t`pypi-AgEIcHlwaS5vcmc${W(120)}`),
  s('test-pypi-upload-token', t`pypi-AgENdGVzdC5weXBpLm9yZw${W(120)}`),
  s('rubygems-api-token', t`rubygems_${H(48)}`),
  s('clojars-token', t`CLOJARS_${L(60)}`),
  s('nuget-api-key', t`oy2${L(43)}`),
  {
    rule: 'nuget-config-password',
    token: t`${A(20)}`,
    line: '      <add key="ClearTextPassword" value="$T" />',
    path: 'root/.nuget/NuGet/NuGet.Config',
  },
  s('docker-hub-pat', t`dckr_pat_${W(27)}`),
  s('docker-hub-oat', t`dckr_oat_${W(32)}`),
  s('artifactory-api-key', t`AKCp${A(69)}`),
  s('artifactory-reference-token', t`cmVmd${A(59)}`),
  s('jfrog-identity-token', t`${L(64)}`, 'ARTIFACTORY_IDENTITY_TOKEN'),
  s('jfrog-api-key', t`${L(73)}`, 'JFROG_API_KEY'),
  s('postman-api-token', t`PMAK-${H(24)}-${H(34)}`),
  s('readme-api-token', t`rdme_${L(70)}`),
  s('frameio-api-token', t`fio-u-${W(64)}`),
  s('easypost-api-token', t`EZAK${A(54)}`),
  // Payment
  s('stripe-secret-key', t`sk_live_${A(24)}`),
  s('stripe-webhook-secret', t`whsec_${A(32)}`),
  s('square-access-token', t`sq0atp-${W(22)}`),
  s('square-oauth-secret', t`sq0csp-${W(43)}`),
  s('braintree-access-token', t`access_token$production$${L(16)}$${H(32)}`),
  s('flutterwave-secret-key', t`FLWSECK_TEST-${H(32)}-X`),
  s('flutterwave-encryption-key', t`FLWSECK_TEST${H(12)}`),
  s('razorpay-key', t`rzp_live_${A(14)}`),
  s('razorpay-secret', t`${A(24)}`, 'RAZORPAY_KEY_SECRET'),
  s('adyen-api-key', t`AQE${A(3)}${B(100)}`),
  s('plaid-secret', t`${L(30)}`, 'PLAID_SECRET'),
  s('plaid-access-token', [`access-sandbox-`, ...uuid()]),
  s('coinbase-token', t`${W(64)}`, 'COINBASE_API_SECRET'),
  s('shippo-api-token', t`shippo_live_${H(40)}`),
  s('duffel-api-token', t`duffel_test_${W(43)}`),
  s('gocardless-token', t`live_${W(40)}`, 'GOCARDLESS_ACCESS_TOKEN'),
  {
    rule: 'freemius-secret-key',
    token: t`sk_${A(29)}`,
    line: "        'secret_key' => '$T',",
    path: 'var/www/html/wp-content/plugins/shop/start.php',
  },
  // Messaging
  s('slack-bot-token', t`xoxb-${D(12)}-${D(13)}-${A(24)}`),
  s('slack-user-token', t`xoxp-${D(12)}-${D(12)}-${D(13)}-${H(32)}`),
  s('slack-app-token', t`xapp-1-A${U(10)}-${D(13)}-${H(64)}`),
  s('slack-config-access-token', t`xoxe.xoxp-1-${A(164)}`),
  s('slack-config-refresh-token', t`xoxe-1-${A(146)}`),
  s('slack-legacy-token', t`xoxs-${D(10)}-${D(10)}-${D(12)}-${H(64)}`),
  s('slack-webhook-url', t`https://hooks.slack.com/services/T${U(8)}/B${U(8)}/${A(24)}`),
  s('microsoft-teams-webhook', [
    'https://acme.webhook.office.com/webhookb2/',
    ...uuid(),
    '@',
    ...uuid(),
    '/IncomingWebhook/',
    H(32),
    '/',
    ...uuid(),
  ]),
  s('discord-webhook-url', t`https://discord.com/api/webhooks/${D(18)}/${W(68)}`),
  s('discord-bot-token', t`M${W(23)}.${W(6)}.${W(27)}`, 'DISCORD_BOT_TOKEN'),
  s('discord-client-secret', t`${W(32)}`, 'DISCORD_CLIENT_SECRET'),
  s('telegram-bot-token', t`${D(10)}:AA${W(33)}`),
  s('twilio-api-key', t`SK${H(32)}`, 'TWILIO_API_KEY'),
  s('twilio-auth-token', t`${H(32)}`, 'TWILIO_AUTH_TOKEN'),
  s('sendinblue-api-key', t`xkeysib-${H(64)}-${A(16)}`),
  s('mailgun-api-key', t`key-${H(32)}`, 'MAILGUN_API_KEY'),
  s('mailgun-signing-key', t`${H(32)}-${H(8)}-${H(8)}`, 'MAILGUN_SIGNING_KEY'),
  s('mailchimp-api-key', t`${H(32)}-us21`, 'MAILCHIMP_API_KEY'),
  s('postmark-server-token', uuid(), 'POSTMARK_SERVER_TOKEN'),
  s('mattermost-token', t`${L(26)}`, 'MATTERMOST_TOKEN'),
  s('twitter-api-key', t`${A(25)}`, 'TWITTER_API_KEY'),
  s('twitter-api-secret', t`${A(50)}`, 'TWITTER_API_SECRET'),
  s('twitter-access-secret', t`${A(45)}`, 'TWITTER_ACCESS_SECRET'),
  s('twitter-access-token', t`${D(19)}-${A(31)}`, 'TWITTER_ACCESS_TOKEN'),
  s('twitter-bearer-token', t`AAAAAAAAAAAAAAAAAAAAAA${A(90)}`, 'TWITTER_BEARER_TOKEN'),
  s('facebook-page-token', t`EAAC${A(120)}`),
  s('facebook-app-secret', t`${H(32)}`, 'FACEBOOK_APP_SECRET'),
  s('linkedin-client-secret', t`${A(16)}`, 'LINKEDIN_CLIENT_SECRET'),
  s('twitch-token', t`${L(30)}`, 'TWITCH_CLIENT_SECRET'),
  s('intra42-client-secret', t`s-s4t2ud-${H(64)}`),
  s('intercom-token', t`${W(60)}`, 'INTERCOM_ACCESS_TOKEN'),
  s('zendesk-secret', t`${A(40)}`, 'ZENDESK_API_TOKEN'),
  s('hubspot-private-app-token', [`pat-na1-`, ...uuid()]),
  s('hubspot-api-key', uuid(), 'HUBSPOT_API_KEY'),
  // Observability
  s('datadog-api-key', t`${H(32)}`, 'DATADOG_API_KEY'),
  s('datadog-app-key', t`${H(40)}`, 'DD_APP_KEY'),
  s('newrelic-user-api-key', t`NRAK-${U(27)}`),
  s('newrelic-insert-key', t`NRII-${W(32)}`),
  s('newrelic-browser-key', t`NRJS-${H(19)}`),
  s('newrelic-license-key', t`${H(36)}NRAL`),
  s('newrelic-license-key-named', t`${H(40)}`, 'NEW_RELIC_LICENSE_KEY'),
  s('sentry-org-token', t`sntrys_eyJpYXQiO${B(30)}LCJyZWdpb25fdXJs${B(30)}_${B(43)}`),
  s('sentry-user-token', t`sntryu_${H(64)}`),
  s('sentry-auth-token', t`${H(64)}`, 'SENTRY_AUTH_TOKEN'),
  s('grafana-cloud-token', t`glc_${B(60)}`),
  s('grafana-service-account-token', t`glsa_${A(32)}_${H(8)}`),
  s('grafana-api-key', t`eyJrIjoi${A(80)}`),
  s('dynatrace-api-token', t`dt0c01.${U(24)}.${U(64)}`),
  s('honeycomb-api-key', t`${A(32)}`, 'HONEYCOMB_API_KEY'),
  s('honeycomb-ingest-key', t`hcaik_${L(58)}`),
  s('sumologic-access-key', t`${A(64)}`, 'SUMO_ACCESS_KEY'),
  s('pagerduty-token', t`u+${A(18)}`, 'PAGERDUTY_TOKEN'),
  s('opsgenie-api-key', uuid(), 'OPSGENIE_API_KEY'),
  s('splunk-hec-token', uuid(), 'SPLUNK_HEC_TOKEN'),
  s('bugsnag-api-key', t`${H(32)}`, 'BUGSNAG_API_KEY'),
  s('rollbar-token', t`${H(32)}`, 'ROLLBAR_ACCESS_TOKEN'),
  s('launchdarkly-token', [`sdk-`, ...uuid()], 'LAUNCHDARKLY_SDK_KEY'),
  s('logzio-token', t`${LETTERS(32)}`, 'LOGZIO_TOKEN'),
  // AI providers
  s('openai-api-key', t`sk-proj-${W(74)}T3BlbkFJ${W(74)}`),
  s('openai-project-key', t`sk-proj-${W(150)}`),
  s('anthropic-api-key', t`sk-ant-api03-${W(93)}AA`),
  s('anthropic-admin-key', t`sk-ant-admin01-${W(93)}AA`),
  s('huggingface-token', t`hf_${LETTERS(34)}`),
  s('huggingface-org-token', t`api_org_${LETTERS(34)}`),
  s('groq-api-key', t`gsk_${A(52)}`),
  s('perplexity-api-key', t`pplx-${A(48)}`),
  s('replicate-api-token', t`r8_${A(37)}`),
  s('openrouter-api-key', t`sk-or-v1-${H(64)}`),
  s('xai-api-key', t`xai-${A(80)}`),
  s('cohere-api-key', t`${A(40)}`, 'COHERE_API_KEY'),
  s('mistral-api-key', t`${A(32)}`, 'MISTRAL_API_KEY'),
  s('langsmith-api-key', t`lsv2_pt_${H(32)}_${H(10)}`),
  // Databases, data platforms
  s('planetscale-token', t`pscale_tkn_${W(43)}`),
  s('planetscale-oauth-token', t`pscale_oauth_${W(43)}`),
  s('planetscale-password', t`pscale_pw_${W(43)}`),
  s('supabase-token', t`sbp_${H(40)}`),
  s('supabase-secret-key', t`sb_secret_${W(31)}`),
  s('databricks-token', t`dapi${H(32)}`),
  s('snowflake-password', t`${A(16)}`, 'SNOWFLAKE_PASSWORD'),
  s('mongodb-atlas-key', t`mdb_sa_sk_${W(40)}`),
  s('clickhouse-cloud-key', t`4b1d${A(38)}`),
  s('algolia-admin-key', t`${L(32)}`, 'ALGOLIA_ADMIN_KEY'),
  s('contentful-token', t`${W(43)}`, 'CONTENTFUL_ACCESS_TOKEN'),
  s('airtable-pat', t`pat${A(14)}.${H(64)}`, 'AIRTABLE_TOKEN'),
  s('airtable-api-key', t`key${A(14)}`, 'AIRTABLE_API_KEY'),
  // Productivity, other SaaS
  s('notion-token', t`ntn_${D(11)}${A(35)}`),
  s('linear-api-key', t`lin_api_${A(40)}`),
  s('figma-token', t`figd_${W(40)}`),
  s('typeform-token', t`tfp_${W(59)}`),
  s('asana-pat', t`1/${D(16)}:${H(32)}`, 'ASANA_ACCESS_TOKEN'),
  s('shopify-token', t`shpat_${H(32)}`),
  s('mapbox-token', t`pk.eyJ1Ijoi${W(40)}.${W(22)}`),
  s('dropbox-token', t`sl.${W(140)}`, 'DROPBOX_ACCESS_TOKEN'),
  s('dropbox-short-lived-token', t`sl.u.${W(140)}`),
  s('dropbox-long-lived-token', t`${A(11)}AAAAAAAAAA${W(43)}`, 'DROPBOX_TOKEN'),
  s('maxmind-license-key', t`${A(6)}_${A(29)}_mmk`),
  s('settlemint-token', t`sm_pat_${A(16)}`),
  s('adobe-client-secret', t`p8e-${A(32)}`),
  s('authress-key', t`sc_${A(10)}.${A(5)}.acc_${L(20)}.${W(60)}`),
  s('lob-api-key', t`live_${H(35)}`, 'LOB_API_KEY'),
  s('yandex-api-key', t`AQVN${W(36)}`),
  s('okta-api-token', t`00${W(40)}`, 'OKTA_API_TOKEN'),
  s('auth0-client-secret', t`${W(64)}`, 'AUTH0_CLIENT_SECRET'),
  // A JWT's header (`{"alg":"HS256","typ":"JWT"}` as `eyJ…`) wrapped in base64 once more, then the
  // payload's `.eyJ` at one of its three alignments.
  s(
    'jwt-base64',
    t`ZXlKaGJHY2lPaUpJVXpJMU5pSXNJblI1Y0NJNklrcFhWQ0o5${B(20)}LmV5S${B(80)}`,
    'AUTH_HEADER_B64',
  ),
];

/** Paths the PKCS#12 rule finds by name, and near misses it must not. */
export const PKCS12_PATHS = {
  found: ['etc/ssl/private/server.p12', 'srv/app/certs/signing.PFX'],
  notFound: ['usr/share/doc/p12/readme.txt', 'srv/app/p12.json'],
};

/** A deterministic random source (mulberry32): the same seed makes the same corpus. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function fill(run: Random, random: () => number): string {
  let out = '';
  for (let i = 0; i < run.n; i++) out += run.from[Math.floor(random() * run.from.length)];
  return out;
}

function base62(n: number): string {
  let out = '';
  for (let v = n; v > 0; v = Math.floor(v / 62)) out = BASE62[v % 62] + out;
  return out.padStart(6, '0');
}

/** The sample's token with its random runs filled (GitHub and npm checksums computed). */
export function makeToken(sample: TokenSample, random: () => number): string {
  return sample.token
    .map((p) => {
      if (typeof p === 'string') return p;
      if ('checksumOf' in p) {
        const body = fill(p.checksumOf, random);
        return `${body}${base62(crc32(body))}`;
      }
      return fill(p, random);
    })
    .join('');
}

/**
 * The same shape with its random runs made a placeholder: `x`s where the alphabet has them,
 * `X`s, else `12345…` (a GitHub token's checksum is then wrong as well).
 */
export function placeholderToken(sample: TokenSample): string {
  return sample.token
    .map((p) => {
      if (typeof p === 'string') return p;
      const run = 'checksumOf' in p ? { ...p.checksumOf, n: p.checksumOf.n + 6 } : p;
      const c = run.from.includes('x') ? 'x' : run.from.includes('X') ? 'X' : undefined;
      if (c) return c.repeat(run.n);
      return '1234567890'.repeat(Math.ceil(run.n / 10)).slice(0, run.n);
    })
    .join('');
}

/** A line assigning the token: the sample's own line, or `NAME=token` style per context. */
export function sampleLine(sample: TokenSample, token: string): string {
  return sample.line ? sample.line.replace('$T', token) : `${sample.name ?? 'value'} = "${token}"`;
}

/** Where each of the GitHub checksum's 6 characters is wrong: a made-up token. */
export function withBadChecksum(token: string): string {
  const last = token.at(-1)!;
  return `${token.slice(0, -1)}${last === 'a' ? 'b' : 'a'}`;
}
