// The provider rules: one table of token formats, written from each provider's public description
// of its tokens (prefix, length, alphabet) and run with re2js. secretlint's recommended preset
// (secret-rules.ts) still runs beside them; where both know a family, the finding is reported once.
//
// Two shapes of rule:
// - `token`: the token carries its own prefix (`dop_v1_…`, `glpat-…`); found anywhere.
// - `named`: the token is a bare random string (a Datadog API key is 32 hex digits), so it is only
//   found assigned to a name that mentions the provider (`DATADOG_API_KEY=…`, `"datadog": {"key": …`).
// Keywords are lower case; every match contains one (provider-rules.spec.ts checks it on samples).
import { type SecretRuleSpec } from './secret-rule';

/** The end of a token: not followed by another token character. */
const END = String.raw`(?:[^A-Za-z0-9_\-+/=]|$)`;
/** The end of a token whose alphabet has no `-`, `+`, `/` or `=`: a following `-` ends it too. */
const END_ALNUM = String.raw`(?:[^A-Za-z0-9_]|$)`;
const HEX = '[a-f0-9]';
const UUID = String.raw`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`;

interface TokenOptions {
  entropy?: number;
  /** Default: the literal the pattern starts with. */
  keywords?: readonly string[];
  /** The keywords are not where the match starts (`T3BlbkFJ` in the middle of an OpenAI key). */
  inside?: boolean;
  /** Use END (tokens whose alphabet has `-`, `+`, `/`, `=`) rather than END_ALNUM. */
  wide?: boolean;
  path?: string;
  allowlists?: SecretRuleSpec['allowlists'];
}

/** A self-describing token: `body` is RE2 for the whole token, its first keyword its prefix. */
function token(id: string, description: string, body: string, options: TokenOptions = {}): SecretRuleSpec {
  const ignoreCase = body.startsWith('(?i)');
  const keywords = (options.keywords ?? [prefixOf(body)]).map((k) => (ignoreCase ? k.toLowerCase() : k));
  return {
    id,
    description,
    regex: String.raw`(?:^|[^A-Za-z0-9_])(${body})${options.wide ? END : END_ALNUM}`,
    secretGroup: 1,
    keywords,
    // A token's prefix has a fixed case (`AKIA`, `ghp_`): looking for it exactly skips most of
    // the base64 in a file, where `akia` in any case turns up every few kilobytes.
    ...(ignoreCase ? {} : { caseSensitiveKeywords: true }),
    ...(options.inside ? {} : { matchStartsAt: 'token' as const }),
    ...(options.entropy !== undefined ? { entropy: options.entropy } : {}),
    ...(options.path ? { path: options.path } : {}),
    ...(options.allowlists ? { allowlists: options.allowlists } : {}),
  };
}

/** The literal text a token pattern starts with (its keyword). */
function prefixOf(body: string): string {
  const m = /^(?:\(\?-?i\))?((?:[A-Za-z0-9_~:-]|\\\.)+)/.exec(body);
  if (!m) throw new Error(`no literal prefix in ${body}: give the rule keywords`);
  return m[1].replace(/\\\./g, '.');
}

/**
 * A bare value assigned to a name that mentions the provider: `names` are lower-case words (also
 * the keywords), `value` the RE2 of the secret. The operators are those of every syntax the
 * name-based rule knows (`=`, `:`, `:=`, `::=`, `?=`, `=>`, `,` and `>` of an XML element).
 */
function named(
  id: string,
  description: string,
  names: readonly string[],
  value: string,
  entropy = 3,
): SecretRuleSpec {
  const name = names.map((n) => n.replace(/[.]/g, '\\.')).join('|');
  return {
    id,
    description,
    regex: String.raw`(?i)(?:${name})(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}(${value})(?:[\x60'"\s;<,})\]]|\\[nr]|$)`,
    secretGroup: 1,
    keywords: names,
    matchStartsAt: 'keyword',
    entropy,
  };
}

export const PROVIDER_RULES: readonly SecretRuleSpec[] = [
  // --- Cloud -------------------------------------------------------------------------------
  token('aws-access-key-id', 'AWS access key ID', '(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}', {
    keywords: ['A3T', 'AKIA', 'ASIA', 'ABIA', 'ACCA'],
    entropy: 3,
  }),
  token('aws-bedrock-api-key', 'Amazon Bedrock API key', 'ABSK[A-Za-z0-9+/]{109,269}={0,2}', {
    wide: true,
    entropy: 4,
  }),
  {
    id: 'aws-secret-access-key',
    description: 'AWS secret access key',
    regex: String.raw`(?i)secret_?(?:access_?key|key)["']?\s*(?::|=>|=|:=)\s*["']?([A-Za-z0-9/+=]{40})(?:[^A-Za-z0-9/+=]|$)`,
    secretGroup: 1,
    keywords: ['secret_access', 'secretaccess', 'secret_key', 'secretkey'],
    entropy: 3.5,
  },
  token('gcp-api-key', 'Google API key', String.raw`AIza[\w-]{35}`, { wide: true, entropy: 3.5 }),
  token('google-oauth-client-secret', 'Google OAuth client secret', String.raw`GOCSPX-[\w-]{28}`, {
    wide: true,
  }),
  token('google-oauth-refresh-token', 'Google OAuth refresh token', String.raw`1//0[\w-]{60,120}`, {
    wide: true,
    keywords: ['1//0'],
    entropy: 4,
  }),
  token(
    'firebase-cloud-messaging-key',
    'Firebase Cloud Messaging server key',
    String.raw`AAAA[\w-]{7}:APA91b[\w-]{134}`,
    {
      wide: true,
      keywords: [':APA91b'],
      inside: true,
    },
  ),
  token(
    'azure-ad-client-secret',
    'Azure AD (Entra ID) client secret',
    String.raw`[a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34}`,
    {
      wide: true,
      keywords: ['Q~'],
      inside: true,
      entropy: 3,
    },
  ),
  {
    id: 'azure-storage-account-key',
    description: 'Azure storage account key',
    regex: String.raw`(?i)AccountKey\s*=\s*([A-Za-z0-9+/]{86}==)`,
    secretGroup: 1,
    keywords: ['accountkey'],
    entropy: 4,
  },
  {
    id: 'azure-sas-token',
    description: 'Azure shared access signature',
    regex: String.raw`(?i)(?:sv=\d{4}-\d\d-\d\d&[^\s"']*?)?[?&]sig=([A-Za-z0-9%+/]{43,60}(?:%3D|=)?)`,
    secretGroup: 1,
    keywords: ['sig='],
    entropy: 4,
  },
  named(
    'azure-devops-pat',
    'Azure DevOps personal access token',
    ['azure_devops', 'azuredevops', 'ado_pat', 'vsts'],
    '[a-z2-7]{52}',
  ),
  token('alibaba-access-key-id', 'Alibaba Cloud AccessKey ID', 'LTAI[A-Za-z0-9]{20}', { entropy: 3 }),
  named('alibaba-secret-key', 'Alibaba Cloud AccessKey secret', ['alibaba', 'aliyun'], '[a-zA-Z0-9]{30}'),
  token('digitalocean-pat', 'DigitalOcean personal access token', `dop_v1_${HEX}{64}`),
  token('digitalocean-oauth-token', 'DigitalOcean OAuth access token', `doo_v1_${HEX}{64}`),
  token('digitalocean-refresh-token', 'DigitalOcean OAuth refresh token', `dor_v1_${HEX}{64}`),
  named(
    'cloudflare-api-token',
    'Cloudflare API token',
    ['cloudflare', 'cf_api'],
    String.raw`[A-Za-z0-9_-]{40}`,
  ),
  named('cloudflare-global-api-key', 'Cloudflare global API key', ['cloudflare', 'cf_api'], `${HEX}{37}`),
  token('cloudflare-origin-ca-key', 'Cloudflare Origin CA key', `v1\\.0-${HEX}{24}-${HEX}{146}`, {
    keywords: ['v1.0-'],
  }),
  token('heroku-api-key-v2', 'Heroku API key', String.raw`HRKU-AA[0-9a-zA-Z_-]{58}`, { wide: true }),
  named('heroku-api-key', 'Heroku API key', ['heroku'], UUID),
  token(
    'flyio-token',
    'Fly.io access token',
    String.raw`(?:fo1_[\w-]{43}|fm1[ar]_[a-zA-Z0-9+/]{100,}={0,3}|fm2_[a-zA-Z0-9+/]{100,}={0,3})`,
    {
      wide: true,
      keywords: ['fo1_', 'fm1a_', 'fm1r_', 'fm2_'],
      entropy: 4,
    },
  ),
  token('render-api-key', 'Render API key', 'rnd_[A-Za-z0-9]{32}'),
  token('scalingo-api-token', 'Scalingo API token', String.raw`tk-us-[\w-]{48}`, { wide: true }),
  token('openshift-user-token', 'OpenShift user token', String.raw`sha256~[\w-]{43}`, {
    wide: true,
    entropy: 3.5,
  }),
  {
    id: 'kubeconfig-client-key',
    description: 'private key of a kubeconfig user (client-key-data)',
    regex: String.raw`client-key-data:\s*["']?(LS0t[A-Za-z0-9+/=]{60,})`,
    secretGroup: 1,
    keywords: ['client-key-data'],
  },
  token('tencent-secret-id', 'Tencent Cloud SecretId', 'AKID[A-Za-z0-9]{32}', { entropy: 3.5 }),
  token(
    'ibm-cloud-api-key-v2',
    'IBM Cloud IAM API key',
    String.raw`ApiKey-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`,
    {
      keywords: ['ApiKey-'],
    },
  ),
  named(
    'ibm-cloud-api-key',
    'IBM Cloud IAM API key',
    ['ibm_cloud', 'ibmcloud', 'iam_apikey', 'ibm_api'],
    String.raw`[A-Za-z0-9_-]{44}`,
    4,
  ),

  // --- Infrastructure, secrets managers ---------------------------------------------------
  token('vault-service-token', 'HashiCorp Vault service token', String.raw`hvs\.[\w-]{90,120}`, {
    wide: true,
    entropy: 3.5,
  }),
  token('vault-batch-token', 'HashiCorp Vault batch token', String.raw`hvb\.[\w-]{138,300}`, {
    wide: true,
    entropy: 4,
  }),
  token('vault-recovery-token', 'HashiCorp Vault recovery token', String.raw`hvr\.[\w-]{90,120}`, {
    wide: true,
    entropy: 3.5,
  }),
  token(
    'terraform-cloud-token',
    'HashiCorp Terraform Cloud API token',
    String.raw`[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}`,
    {
      wide: true,
      keywords: ['.atlasv1.'],
      inside: true,
      entropy: 3.5,
    },
  ),
  token('doppler-token', 'Doppler token', String.raw`dp\.(?:pt|st|ct|sa|scim|audit)\.[A-Za-z0-9]{40,44}`, {
    keywords: ['dp.pt.', 'dp.st.', 'dp.ct.', 'dp.sa.', 'dp.scim.', 'dp.audit.'],
    entropy: 3.5,
  }),
  token('pulumi-access-token', 'Pulumi access token', `pul-${HEX}{40}`),
  token(
    '1password-secret-key',
    '1Password account secret key',
    String.raw`A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}`,
    {
      wide: true,
      keywords: ['A3-'],
      entropy: 3.8,
    },
  ),
  token(
    '1password-service-account-token',
    '1Password service account token',
    'ops_eyJ[a-zA-Z0-9+/]{250,}={0,3}',
    {
      wide: true,
      entropy: 4,
    },
  ),
  token(
    'age-secret-key',
    'age encryption secret key',
    'AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}',
    {
      keywords: ['AGE-SECRET-KEY-1'],
    },
  ),
  token('infracost-api-token', 'Infracost API token', 'ico-[a-zA-Z0-9]{32}'),
  token('tailscale-key', 'Tailscale key', 'tskey-[a-z]{2,20}-[0-9A-Za-z_]{8,40}-[0-9A-Za-z_]{16,60}'),
  token(
    'defined-networking-token',
    'Defined Networking API token',
    String.raw`dnkey-[a-z0-9=_-]{26}-[a-z0-9=_-]{52}`,
    {
      wide: true,
    },
  ),

  // --- Version control, CI/CD --------------------------------------------------------------
  token('github-pat', 'GitHub personal access token', 'ghp_[0-9a-zA-Z]{36}'),
  token('github-oauth-token', 'GitHub OAuth access token', 'gho_[0-9a-zA-Z]{36}'),
  token('github-app-token', 'GitHub App user-to-server or installation token', 'gh[us]_[0-9a-zA-Z]{36}', {
    keywords: ['ghu_', 'ghs_'],
  }),
  token('github-refresh-token', 'GitHub refresh token', 'ghr_[0-9a-zA-Z]{36}'),
  token(
    'github-fine-grained-pat',
    'GitHub fine-grained personal access token',
    String.raw`github_pat_[0-9a-zA-Z]{22}_[0-9a-zA-Z]{59}`,
  ),
  token('gitlab-pat', 'GitLab personal access token', String.raw`glpat-[\w-]{20}`, { wide: true }),
  token(
    'gitlab-pat-routable',
    'GitLab personal access token (routable)',
    String.raw`glpat-[0-9a-zA-Z_-]{27,300}\.[0-9a-z]{2}[0-9a-z]{7}`,
    {
      wide: true,
      entropy: 4,
    },
  ),
  token('gitlab-deploy-token', 'GitLab deploy token', String.raw`gldt-[0-9a-zA-Z_-]{20}`, { wide: true }),
  token(
    'gitlab-feature-flag-token',
    'GitLab feature flag client token',
    String.raw`glffct-[0-9a-zA-Z_-]{20}`,
    { wide: true },
  ),
  token('gitlab-feed-token', 'GitLab feed token', String.raw`glft-[0-9a-zA-Z_-]{20}`, { wide: true }),
  token('gitlab-incoming-mail-token', 'GitLab incoming mail token', String.raw`glimt-[0-9a-zA-Z_-]{25}`, {
    wide: true,
  }),
  token(
    'gitlab-kubernetes-agent-token',
    'GitLab Kubernetes agent token',
    String.raw`glagent-[0-9a-zA-Z_-]{50}`,
    { wide: true },
  ),
  token('gitlab-oauth-app-secret', 'GitLab OAuth application secret', String.raw`gloas-[0-9a-zA-Z_-]{64}`, {
    wide: true,
  }),
  token('gitlab-pipeline-trigger-token', 'GitLab pipeline trigger token', `glptt-${HEX}{40}`),
  token(
    'gitlab-runner-registration-token',
    'GitLab runner registration token',
    String.raw`GR1348941[\w-]{20}`,
    { wide: true },
  ),
  token(
    'gitlab-runner-token',
    'GitLab runner authentication token',
    String.raw`glrt-(?:t\d_)?[0-9a-zA-Z_-]{20,300}(?:\.[0-9a-z]{9})?`,
    {
      wide: true,
    },
  ),
  token('gitlab-scim-token', 'GitLab SCIM token', String.raw`glsoat-[0-9a-zA-Z_-]{20}`, { wide: true }),
  token(
    'gitlab-cicd-job-token',
    'GitLab CI/CD job token',
    String.raw`glcbt-[0-9a-zA-Z]{1,5}_[0-9a-zA-Z_-]{20}`,
    { wide: true },
  ),
  token('gitlab-workspace-token', 'GitLab workspace token', String.raw`glwt-[0-9a-zA-Z_-]{20}`, {
    wide: true,
  }),
  token('gitlab-session-cookie', 'GitLab session cookie', '_gitlab_session=[0-9a-z]{32}', {
    keywords: ['_gitlab_session='],
  }),
  token('bitbucket-app-password', 'Bitbucket app password', 'ATBB[a-zA-Z0-9]{32}', { entropy: 3.5 }),
  token('atlassian-api-token', 'Atlassian API token', String.raw`ATATT3[A-Za-z0-9_=-]{186}`, { wide: true }),
  named(
    'atlassian-legacy-token',
    'Atlassian API token (legacy)',
    ['atlassian', 'confluence', 'jira'],
    '[a-zA-Z0-9]{24}',
    3.5,
  ),
  token('buildkite-token', 'Buildkite API access token', `bkua_${HEX}{40}`),
  token('circleci-token', 'CircleCI personal API token', `CCIPAT_[A-Za-z0-9]{22}_${HEX}{40}`),
  named('circleci-legacy-token', 'CircleCI API token', ['circleci', 'circle_token'], `${HEX}{40}`),
  named('travisci-token', 'Travis CI access token', ['travis'], '[a-zA-Z0-9]{22}'),
  named('droneci-token', 'Drone CI access token', ['droneci', 'drone_token'], '[a-zA-Z0-9]{32}'),
  token('sonarqube-token', 'SonarQube token', `sq[upa]_${HEX}{40}`, { keywords: ['squ_', 'sqp_', 'sqa_'] }),
  named(
    'sonar-token',
    'SonarQube/SonarCloud token',
    ['sonar_token', 'sonar.token', 'sonar_login', 'sonar.login'],
    String.raw`[a-z0-9=_-]{40}`,
  ),
  named('codecov-token', 'Codecov upload token', ['codecov'], UUID),
  named('snyk-token', 'Snyk API token', ['snyk'], UUID),
  named('octopus-deploy-api-key', 'Octopus Deploy API key', ['octopus'], 'API-[A-Z0-9]{26}'),
  token(
    'harness-token',
    'Harness access token',
    String.raw`(?:pat|sat)\.[a-zA-Z0-9_-]{22}\.[a-zA-Z0-9]{24}\.[a-zA-Z0-9]{20}`,
    {
      wide: true,
      keywords: ['pat.', 'sat.'],
    },
  ),
  token(
    'sourcegraph-token',
    'Sourcegraph access token',
    String.raw`sgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40}|sgp_[a-fA-F0-9]{40}`,
    {
      keywords: ['sgp_'],
    },
  ),
  token('prefect-api-token', 'Prefect API token', 'pnu_[a-zA-Z0-9]{36}'),

  // --- Package registries and artifact stores ----------------------------------------------
  token('npm-token', 'npm access token', 'npm_[a-zA-Z0-9]{36}'),
  token('pypi-upload-token', 'PyPI upload token', String.raw`pypi-AgEIcHlwaS5vcmc[\w-]{50,1000}`, {
    wide: true,
    keywords: ['pypi-AgEIcHlwaS5vcmc'],
  }),
  token(
    'test-pypi-upload-token',
    'TestPyPI upload token',
    String.raw`pypi-AgENdGVzdC5weXBpLm9yZw[\w-]{50,1000}`,
    {
      wide: true,
      keywords: ['pypi-AgENdGVzdC5weXBpLm9yZw'],
    },
  ),
  token('rubygems-api-token', 'RubyGems API key', `rubygems_${HEX}{48}`),
  token('clojars-token', 'Clojars deploy token', '(?i)CLOJARS_[a-z0-9]{60}', { keywords: ['clojars_'] }),
  token('nuget-api-key', 'NuGet API key', 'oy2[a-z0-9]{43}', { entropy: 3.5 }),
  {
    id: 'nuget-config-password',
    description: 'password in a NuGet.config',
    regex: String.raw`(?i)<add\s+key="(?:ClearText)?Password"\s+value="([^"]{8,})"\s*/>`,
    secretGroup: 1,
    keywords: ['<add key='],
    path: String.raw`(?i)nuget\.config$`,
  },
  token('docker-hub-pat', 'Docker Hub personal access token', String.raw`dckr_pat_[a-zA-Z0-9_-]{27}`, {
    wide: true,
  }),
  token('docker-hub-oat', 'Docker Hub organization access token', String.raw`dckr_oat_[a-zA-Z0-9_-]{32}`, {
    wide: true,
  }),
  token('artifactory-api-key', 'JFrog Artifactory API key', 'AKCp[A-Za-z0-9]{69}', { entropy: 4.5 }),
  token('artifactory-reference-token', 'JFrog Artifactory reference token', 'cmVmd[A-Za-z0-9]{59}', {
    entropy: 4.5,
  }),
  named('jfrog-identity-token', 'JFrog identity token', ['jfrog', 'artifactory', 'bintray'], '[a-z0-9]{64}'),
  named('jfrog-api-key', 'JFrog API key', ['jfrog', 'artifactory', 'bintray'], '[a-z0-9]{73}'),
  token('postman-api-token', 'Postman API key', `PMAK-${HEX}{24}-${HEX}{34}`, { keywords: ['PMAK-'] }),
  token('readme-api-token', 'ReadMe API key', 'rdme_[a-z0-9]{70}'),
  token('frameio-api-token', 'Frame.io API token', String.raw`fio-u-[A-Za-z0-9_=-]{64}`, { wide: true }),
  token('easypost-api-token', 'EasyPost API key', 'EZ[AT]K[A-Za-z0-9]{54}', { keywords: ['EZAK', 'EZTK'] }),

  // --- Payment --------------------------------------------------------------------------------
  token(
    'stripe-secret-key',
    'Stripe secret or restricted key',
    '(?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99}',
    {
      keywords: ['sk_test', 'sk_live', 'sk_prod', 'rk_test', 'rk_live', 'rk_prod'],
      entropy: 3,
    },
  ),
  token('stripe-webhook-secret', 'Stripe webhook signing secret', 'whsec_[a-zA-Z0-9]{32,64}', {
    entropy: 3.5,
  }),
  token('square-access-token', 'Square access token', String.raw`(?:EAAA|sq0atp-)[\w-]{22,60}`, {
    wide: true,
    keywords: ['EAAA', 'sq0atp-'],
    entropy: 3.5,
  }),
  token('square-oauth-secret', 'Square OAuth secret', String.raw`sq0csp-[\w-]{43}`, { wide: true }),
  token(
    'braintree-access-token',
    'Braintree/PayPal access token',
    `access_token\\$production\\$[0-9a-z]{16}\\$${HEX}{32}`,
    {
      keywords: ['access_token$production$'],
    },
  ),
  token('flutterwave-secret-key', 'Flutterwave secret key', String.raw`FLWSECK(?:_TEST)?-[a-hA-H0-9]{32}-X`, {
    keywords: ['FLWSECK'],
  }),
  token('flutterwave-encryption-key', 'Flutterwave encryption key', 'FLWSECK(?:_TEST)?[a-hA-H0-9]{12}', {
    keywords: ['FLWSECK'],
  }),
  token('razorpay-key', 'Razorpay live key ID', 'rzp_live_[A-Za-z0-9]{14}'),
  named('razorpay-secret', 'Razorpay key secret', ['razorpay'], '[A-Za-z0-9]{24}', 3.5),
  token('adyen-api-key', 'Adyen API key', String.raw`AQE[a-zA-Z0-9]{3}[a-zA-Z0-9+/=_-]{70,250}`, {
    wide: true,
    keywords: ['AQE'],
    entropy: 4.5,
  }),
  named('plaid-secret', 'Plaid secret', ['plaid'], '[a-z0-9]{30}', 3.5),
  token('plaid-access-token', 'Plaid access token', `access-(?:sandbox|development|production)-${UUID}`, {
    keywords: ['access-sandbox-', 'access-development-', 'access-production-'],
  }),
  named('coinbase-token', 'Coinbase access token', ['coinbase'], String.raw`[a-z0-9_-]{64}`),
  token('shippo-api-token', 'Shippo API token', `shippo_(?:live|test)_${HEX}{40}`, { keywords: ['shippo_'] }),
  token('duffel-api-token', 'Duffel API token', String.raw`duffel_(?:test|live)_[A-Za-z0-9_=-]{43}`, {
    wide: true,
    keywords: ['duffel_'],
  }),
  named('gocardless-token', 'GoCardless access token', ['gocardless'], String.raw`live_[A-Za-z0-9_=-]{40}`),
  token('freemius-secret-key', 'Freemius secret key', String.raw`sk_[\S]{29}`, {
    keywords: ['sk_'],
    path: String.raw`(?i)\.php$`,
    wide: true,
  }),

  // --- Messaging, e-mail ----------------------------------------------------------------------
  token('slack-bot-token', 'Slack bot token', 'xoxb-[0-9]{10,13}-[0-9]{10,13}-?[a-zA-Z0-9-]*', {
    wide: true,
  }),
  token('slack-user-token', 'Slack user token', 'xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34}', {
    wide: true,
    keywords: ['xoxp-', 'xoxe-'],
  }),
  token('slack-app-token', 'Slack app-level token', '(?i)xapp-[0-9]-[A-Z0-9]+-[0-9]+-[a-z0-9]+', {
    keywords: ['xapp-'],
  }),
  token(
    'slack-config-access-token',
    'Slack configuration access token',
    '(?i)xoxe\\.xox[bp]-[0-9]-[A-Z0-9]{163,166}',
    {
      keywords: ['xoxe.xoxb-', 'xoxe.xoxp-'],
    },
  ),
  token('slack-config-refresh-token', 'Slack configuration refresh token', '(?i)xoxe-[0-9]-[A-Z0-9]{146}', {
    keywords: ['xoxe-'],
  }),
  token('slack-legacy-token', 'Slack legacy token', String.raw`xox[os]-\d+-\d+-\d+-[a-fA-F\d]+`, {
    keywords: ['xoxo-', 'xoxs-'],
  }),
  token(
    'slack-webhook-url',
    'Slack incoming webhook URL',
    String.raw`(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}`,
    {
      wide: true,
      keywords: ['hooks.slack.com'],
      inside: true,
    },
  ),
  token(
    'microsoft-teams-webhook',
    'Microsoft Teams incoming webhook URL',
    String.raw`https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/[a-z0-9]{8}-(?:[a-z0-9]{4}-){3}[a-z0-9]{12}@[a-z0-9]{8}-(?:[a-z0-9]{4}-){3}[a-z0-9]{12}/IncomingWebhook/[a-z0-9]{32}/[a-z0-9]{8}-(?:[a-z0-9]{4}-){3}[a-z0-9]{12}(?:/[A-Za-z0-9_-]+)?`,
    {
      wide: true,
      keywords: ['webhook.office.com'],
      inside: true,
    },
  ),
  token(
    'discord-webhook-url',
    'Discord webhook URL',
    String.raw`https://(?:canary\.|ptb\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/[A-Za-z0-9_-]{60,72}`,
    {
      wide: true,
      keywords: ['discord.com/api/webhooks/', 'discordapp.com/api/webhooks/'],
      inside: true,
    },
  ),
  named(
    'discord-bot-token',
    'Discord bot token',
    ['discord'],
    String.raw`[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}`,
  ),
  named('discord-client-secret', 'Discord client secret', ['discord'], String.raw`[a-zA-Z0-9_-]{32}`, 3.5),
  token('telegram-bot-token', 'Telegram bot token', String.raw`[0-9]{8,10}:AA[0-9A-Za-z_-]{33}`, {
    wide: true,
    keywords: [':AA'],
    inside: true,
    entropy: 3.5,
  }),
  named('twilio-api-key', 'Twilio API key', ['twilio'], `SK${HEX}{32}`),
  named('twilio-auth-token', 'Twilio auth token', ['twilio'], `${HEX}{32}`),
  token('sendinblue-api-key', 'Brevo (Sendinblue) API key', `xkeysib-${HEX}{64}-[a-zA-Z0-9]{16}`, {
    keywords: ['xkeysib-'],
  }),
  named('mailgun-api-key', 'Mailgun private API key', ['mailgun'], `key-${HEX}{32}`),
  named(
    'mailgun-signing-key',
    'Mailgun webhook signing key',
    ['mailgun'],
    '[a-h0-9]{32}-[a-h0-9]{8}-[a-h0-9]{8}',
  ),
  named('mailchimp-api-key', 'Mailchimp API key', ['mailchimp'], `${HEX}{32}-us[0-9]{1,2}`),
  named('postmark-server-token', 'Postmark server token', ['postmark'], UUID),
  named('mattermost-token', 'Mattermost access token', ['mattermost'], '[a-z0-9]{26}'),
  named('twitter-api-key', 'Twitter/X API key', ['twitter'], '[a-zA-Z0-9]{25}', 3.5),
  named('twitter-api-secret', 'Twitter/X API secret', ['twitter'], '[a-zA-Z0-9]{50}', 4),
  named('twitter-access-secret', 'Twitter/X access token secret', ['twitter'], '[a-zA-Z0-9]{45}', 4),
  named('twitter-access-token', 'Twitter/X access token', ['twitter'], '[0-9]{15,25}-[a-zA-Z0-9]{20,40}'),
  named('twitter-bearer-token', 'Twitter/X bearer token', ['twitter'], 'A{22}[a-zA-Z0-9%]{80,100}'),
  token('facebook-page-token', 'Facebook/Meta access token', 'EAA[MC][A-Za-z0-9]{100,}', {
    keywords: ['EAAM', 'EAAC'],
    entropy: 4,
  }),
  named('facebook-app-secret', 'Facebook app secret', ['facebook', 'fb_app_secret'], `${HEX}{32}`),
  named(
    'linkedin-client-secret',
    'LinkedIn client secret',
    ['linkedin', 'linked_in'],
    '[a-zA-Z0-9]{16}',
    3.5,
  ),
  named('twitch-token', 'Twitch API token', ['twitch'], '[a-z0-9]{30}'),
  token('intra42-client-secret', '42 Intra client secret', `s-s4t2(?:ud|af)-${HEX}{64}`, {
    keywords: ['s-s4t2ud-', 's-s4t2af-'],
  }),
  named('intercom-token', 'Intercom access token', ['intercom'], String.raw`[a-zA-Z0-9=_-]{60}`),
  named('zendesk-secret', 'Zendesk API token', ['zendesk'], '[a-zA-Z0-9]{40}'),
  token('hubspot-private-app-token', 'HubSpot private app token', `pat-(?:na|eu)[0-9]-${UUID}`, {
    keywords: ['pat-na', 'pat-eu'],
  }),
  named('hubspot-api-key', 'HubSpot API key', ['hubspot'], UUID),

  // --- Observability ----------------------------------------------------------------------------
  named('datadog-api-key', 'Datadog API key', ['datadog', 'dd_api_key', 'dd-api-key'], `${HEX}{32}`),
  named(
    'datadog-app-key',
    'Datadog application key',
    ['datadog', 'dd_app_key', 'dd_application_key'],
    `${HEX}{40}`,
  ),
  token('newrelic-user-api-key', 'New Relic user API key', 'NRAK-[A-Z0-9]{27}', { keywords: ['NRAK-'] }),
  token('newrelic-insert-key', 'New Relic insights insert key', String.raw`NRII-[A-Za-z0-9_-]{32}`, {
    wide: true,
    keywords: ['NRII-'],
  }),
  token('newrelic-browser-key', 'New Relic browser API key', `NRJS-${HEX}{19}`, { keywords: ['NRJS-'] }),
  token('newrelic-license-key', 'New Relic license key', `${HEX}{36}NRAL`, {
    keywords: ['NRAL'],
    inside: true,
  }),
  named(
    'newrelic-license-key-named',
    'New Relic license key',
    ['new_relic_license', 'newrelic_license', 'new-relic-license'],
    `${HEX}{40}`,
  ),
  token(
    'sentry-org-token',
    'Sentry organization token',
    String.raw`sntrys_eyJpYXQiO[a-zA-Z0-9+/]{10,200}(?:LCJyZWdpb25fdXJs|InJlZ2lvbl91cmwi|cmVnaW9uX3VybCI6)[a-zA-Z0-9+/]{10,200}={0,2}_[a-zA-Z0-9+/]{43}`,
    {
      wide: true,
      keywords: ['sntrys_'],
    },
  ),
  token('sentry-user-token', 'Sentry user auth token', `sntryu_${HEX}{64}`),
  named('sentry-auth-token', 'Sentry auth token', ['sentry'], `${HEX}{64}`),
  token('grafana-cloud-token', 'Grafana Cloud API token', 'glc_[A-Za-z0-9+/]{32,400}={0,3}', {
    wide: true,
    entropy: 3,
  }),
  token(
    'grafana-service-account-token',
    'Grafana service account token',
    'glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}',
  ),
  token('grafana-api-key', 'Grafana API key', 'eyJrIjoi[A-Za-z0-9]{70,400}={0,3}', {
    wide: true,
    keywords: ['eyJrIjoi'],
  }),
  token('dynatrace-api-token', 'Dynatrace API token', String.raw`dt0[a-z]\d{2}\.[A-Z0-9]{24}\.[A-Z0-9]{64}`, {
    keywords: ['dt0c01.', 'dt0s01.', 'dt0s02.', 'dt0a01.', 'dt0c02.'],
    entropy: 4,
  }),
  named('honeycomb-api-key', 'Honeycomb API key', ['honeycomb'], '[a-zA-Z0-9]{22,32}', 3.5),
  token('honeycomb-ingest-key', 'Honeycomb ingest key', 'hc[a-z]ik_[a-z0-9]{58}', {
    keywords: ['hcaik_', 'hcxik_', 'hcbik_'],
  }),
  named('sumologic-access-key', 'Sumo Logic access key', ['sumo_', 'sumologic'], '[a-zA-Z0-9]{64}'),
  named(
    'pagerduty-token',
    'PagerDuty API token',
    ['pagerduty', 'pager_duty'],
    String.raw`u\+[A-Za-z0-9_+-]{18}`,
  ),
  named('opsgenie-api-key', 'Opsgenie API key', ['opsgenie'], UUID),
  named('splunk-hec-token', 'Splunk HEC token', ['splunk'], UUID),
  named('bugsnag-api-key', 'Bugsnag API key', ['bugsnag'], `${HEX}{32}`),
  named('rollbar-token', 'Rollbar access token', ['rollbar'], `${HEX}{32}`),
  named(
    'launchdarkly-token',
    'LaunchDarkly access token',
    ['launchdarkly'],
    String.raw`(?:api|sdk|mob)-${UUID}`,
  ),
  named('logzio-token', 'Logz.io token', ['logzio', 'logz_io'], '[a-zA-Z]{32}', 3.5),

  // --- AI providers -------------------------------------------------------------------------------
  token(
    'openai-api-key',
    'OpenAI API key',
    String.raw`sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{58,74}T3BlbkFJ[A-Za-z0-9_-]{58,74}|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20}`,
    {
      wide: true,
      keywords: ['T3BlbkFJ'],
      inside: true,
    },
  ),
  token('openai-project-key', 'OpenAI project API key', String.raw`sk-proj-[A-Za-z0-9_-]{100,200}`, {
    wide: true,
    entropy: 4,
  }),
  token('anthropic-api-key', 'Anthropic API key', String.raw`sk-ant-api03-[a-zA-Z0-9_-]{93}AA`, {
    wide: true,
  }),
  token('anthropic-admin-key', 'Anthropic admin API key', String.raw`sk-ant-admin01-[a-zA-Z0-9_-]{93}AA`, {
    wide: true,
  }),
  token('huggingface-token', 'Hugging Face access token', 'hf_[a-zA-Z]{34}'),
  token('huggingface-org-token', 'Hugging Face organization API token', 'api_org_[a-zA-Z]{34}'),
  token('groq-api-key', 'Groq API key', 'gsk_[a-zA-Z0-9]{52}'),
  token('perplexity-api-key', 'Perplexity API key', 'pplx-[a-zA-Z0-9]{48}', { entropy: 4 }),
  token('replicate-api-token', 'Replicate API token', 'r8_[A-Za-z0-9]{37}', { entropy: 4 }),
  token('openrouter-api-key', 'OpenRouter API key', `sk-or-v1-${HEX}{64}`),
  token('xai-api-key', 'xAI API key', 'xai-[A-Za-z0-9]{80}', { entropy: 4 }),
  named(
    'cohere-api-key',
    'Cohere API key',
    ['cohere_', 'cohere.', 'cohere-', 'co_api_key'],
    '[a-zA-Z0-9]{40}',
    4,
  ),
  named('mistral-api-key', 'Mistral API key', ['mistral'], '[a-zA-Z0-9]{32}', 4),
  token('langsmith-api-key', 'LangSmith API key', `lsv2_(?:pt|sk)_${HEX}{32}_${HEX}{10}`, {
    keywords: ['lsv2_pt_', 'lsv2_sk_'],
  }),

  // --- Databases and data platforms -------------------------------------------------------------
  token('planetscale-token', 'PlanetScale API token', String.raw`pscale_tkn_[\w=.-]{32,64}`, {
    wide: true,
    entropy: 3,
  }),
  token('planetscale-oauth-token', 'PlanetScale OAuth token', String.raw`pscale_oauth_[\w=.-]{32,64}`, {
    wide: true,
    entropy: 3,
  }),
  token('planetscale-password', 'PlanetScale password', String.raw`pscale_pw_[\w=.-]{32,64}`, {
    wide: true,
    entropy: 3,
  }),
  token('supabase-token', 'Supabase access token', `sbp_${HEX}{40}`),
  token('supabase-secret-key', 'Supabase secret key', String.raw`sb_secret_[A-Za-z0-9_-]{31}`, {
    wide: true,
  }),
  token('databricks-token', 'Databricks access token', `dapi${HEX}{32}(?:-\\d)?`, { entropy: 3 }),
  named(
    'snowflake-password',
    'Snowflake password',
    ['snowflake_password', 'snowsql_pwd'],
    String.raw`[^\s'"]{8,64}`,
  ),
  token('mongodb-atlas-key', 'MongoDB Atlas service account secret', `mdb_sa_sk_[A-Za-z0-9_-]{40}`, {
    wide: true,
  }),
  token('clickhouse-cloud-key', 'ClickHouse Cloud API secret key', '4b1d[A-Za-z0-9]{38}', { entropy: 3 }),
  named('algolia-admin-key', 'Algolia admin API key', ['algolia'], '[a-z0-9]{32}', 3.5),
  named('contentful-token', 'Contentful access token', ['contentful'], String.raw`[a-zA-Z0-9=_-]{43}`),
  named(
    'airtable-pat',
    'Airtable personal access token',
    ['airtable'],
    String.raw`pat[A-Za-z0-9]{14}\.${HEX}{64}`,
  ),
  named('airtable-api-key', 'Airtable API key', ['airtable'], 'key[a-zA-Z0-9]{14}'),

  // --- Productivity, other SaaS -------------------------------------------------------------------
  token('notion-token', 'Notion integration token', 'ntn_[0-9]{11}[A-Za-z0-9]{35}', { entropy: 4 }),
  token('linear-api-key', 'Linear API key', 'lin_api_[a-zA-Z0-9]{40}'),
  token('figma-token', 'Figma personal access token', String.raw`figd_[A-Za-z0-9_-]{40,200}`, { wide: true }),
  token('typeform-token', 'Typeform personal access token', String.raw`tfp_[A-Za-z0-9_.=-]{59}`, {
    wide: true,
  }),
  named('asana-pat', 'Asana personal access token', ['asana'], `[0-9]/[0-9]{16}:${HEX}{32}`),
  token('shopify-token', 'Shopify access token or shared secret', `shp(?:at|ca|pa|ss)_${HEX}{32}`, {
    keywords: ['shpat_', 'shpca_', 'shppa_', 'shpss_'],
  }),
  token(
    'mapbox-token',
    'Mapbox access token',
    String.raw`(?:pk|sk|tk)\.eyJ1Ijoi[A-Za-z0-9_-]{20,120}\.[A-Za-z0-9_-]{22}`,
    {
      wide: true,
      keywords: ['pk.eyJ1Ijoi', 'sk.eyJ1Ijoi', 'tk.eyJ1Ijoi'],
    },
  ),
  named('dropbox-token', 'Dropbox access token', ['dropbox'], String.raw`sl\.[A-Za-z0-9_=-]{130,1000}`),
  token(
    'dropbox-short-lived-token',
    'Dropbox short-lived access token',
    String.raw`sl\.u\.[A-Za-z0-9_=-]{130,1000}`,
    {
      wide: true,
      keywords: ['sl.u.'],
    },
  ),
  named(
    'dropbox-long-lived-token',
    'Dropbox long-lived access token',
    ['dropbox'],
    String.raw`[A-Za-z0-9]{11}AAAAAAAAAA[A-Za-z0-9_=-]{43}`,
  ),
  token('maxmind-license-key', 'MaxMind license key', '[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk', {
    keywords: ['_mmk'],
    inside: true,
    entropy: 4,
  }),
  token('settlemint-token', 'SettleMint access token', 'sm_(?:aat|pat|sat)_[a-zA-Z0-9]{16}', {
    keywords: ['sm_aat_', 'sm_pat_', 'sm_sat_'],
  }),
  token('adobe-client-secret', 'Adobe client secret', 'p8e-[A-Za-z0-9]{32}', { entropy: 3 }),
  token(
    'authress-key',
    'Authress service client access key',
    String.raw`(?:sc|ext|scauth|authress)_[a-zA-Z0-9]{5,30}\.[a-zA-Z0-9]{4,6}\.acc[_-][a-z0-9-]{10,32}\.[a-zA-Z0-9+/_=-]{30,120}`,
    {
      wide: true,
      keywords: ['.acc_', '.acc-'],
      inside: true,
    },
  ),
  named(
    'lob-api-key',
    'Lob API key',
    ['lob_api', 'lob_key', 'lob_secret', 'lob_live', 'lob_test'],
    `(?:live|test)_${HEX}{35}`,
  ),
  token('yandex-api-key', 'Yandex Cloud API key', String.raw`AQVN[A-Za-z0-9_-]{35,38}`, {
    wide: true,
    entropy: 3.5,
  }),
  // An SSWS token is 42 characters starting `00`: too common a shape to look for without the name.
  named('okta-api-token', 'Okta API token', ['okta'], String.raw`00[A-Za-z0-9_-]{40}`, 4),
  named('auth0-client-secret', 'Auth0 client secret', ['auth0'], String.raw`[A-Za-z0-9_-]{64}`, 4),
  token(
    'jwt-base64',
    'base64-encoded JSON Web Token',
    String.raw`ZXlK[A-Za-z0-9+/]{16,}(?:LmV5S|5leU|uZXlK)[A-Za-z0-9+/]{40,}={0,2}`,
    {
      wide: true,
      keywords: ['ZXlK'],
      entropy: 4,
    },
  ),
  {
    id: 'pkcs12-file',
    description: 'PKCS#12 key store (.p12, .pfx)',
    path: String.raw`(?i)(?:^|/)[^/]+\.p(?:12|fx)$`,
  },
];
