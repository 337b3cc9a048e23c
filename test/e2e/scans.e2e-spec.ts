import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fakeSecrets,
  gzip,
  gzipBomb,
  LAYER_GZIP,
  LAYER_ZSTD,
  secretFiles,
  tarLayer,
  whiteout,
  zstd,
} from '../support/layer-fixtures';
import {
  OCI_MANIFEST,
  pushArtifactManifest,
  pushImage,
  pushLayers,
  pushRawManifest,
} from '../support/oci-images';
import { osvFixtures, osvZip } from '../support/osv';
import { startRegistry, type RegistryHandle } from '../support/registry';
import { Rig } from '../support/rig';
import { generateTestKeyPair, inTotoStatement } from '../support/sigstore';
import {
  insecureSource,
  keyAttestation,
  pushCosignAttestations,
  pushKeySignature,
} from '../support/trust-fixtures';

/**
 * The scan checks end to end, offline: images pushed by skopeo to a real registry, SBOMs attested
 * in cosign's format with a trusted key, the OSV set shipped in test/fixtures imported over the
 * API, and the built worker deciding. Each rejection must carry findings a person can act on.
 */
describe('scans', () => {
  const REPO = 'acme/app';
  const release = generateTestKeyPair();
  const stranger = generateTestKeyPair();
  const unique = () => randomBytes(3).toString('hex');

  let rig: Rig;
  let registry: RegistryHandle;
  /** The deployment's own rule sets (SECRET_SCAN_RULES_DIR): one, `acme`, in gitleaks's format. */
  const rulesDir = mkdtempSync(join(tmpdir(), 'airlock-scan-rules-'));
  writeFileSync(
    join(rulesDir, 'acme.toml'),
    [
      '[[rules]]',
      'id = "acme-internal-token"',
      "regex = '''\\b(acme_[a-z0-9]{32})\\b'''",
      'secretGroup = 1',
      'keywords = ["acme_"]',
      '',
    ].join('\n'),
  );

  beforeAll(async () => {
    [rig, registry] = await Promise.all([
      // A low entry limit, so one test can reach it with a small layer.
      Rig.start({
        WORKER_JOB_ATTEMPTS: '2',
        WORKER_RETRY_DELAY_MS: '200',
        SECRET_SCAN_MAX_ENTRIES: '2000',
        SECRET_SCAN_RULES_DIR: rulesDir,
      }),
      startRegistry(),
    ]);
    const imported = await rig.call('POST', '/v1/advisories/imports', {
      as: 'admin',
      rawBody: await osvZip(osvFixtures()),
      headers: { 'content-type': 'application/zip', 'x-file-name': 'test-osv.zip' },
    });
    expect(imported.status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([rig?.stop(), registry?.stop()]);
    rmSync(rulesDir, { recursive: true, force: true });
  });

  const signers = { signatures: { keys: [{ name: 'release', publicKey: release.publicKeyPem }] } };

  async function promote(policy: Record<string, unknown>, digest: string): Promise<any> {
    const env = `scan-${unique()}`;
    await rig.environment(env, { approvals: { required: 0 }, ...policy }, insecureSource(registry.host));
    const res = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact: `${registry.host}/${REPO}@${digest}`, environment: env },
    });
    expect(res.status).toBe(201);
    return rig.waitForStatus(res.body.id, ['approved', 'rejected', 'failed', 'awaiting_approval'], 30_000);
  }

  /** The status, shown with the reasons when it is not the one expected. */
  const expectStatus = (p: any, status: string) =>
    expect(`${p.status}: ${(p.reasons as string[]).join(' | ')}`).toMatch(new RegExp(`^${status}: `));

  const check = (p: any, kind: string) => {
    const found = (p.checks as any[]).find((c) => c.kind === kind);
    if (!found) throw new Error(`no ${kind} check in ${JSON.stringify(p.checks)}`);
    return found;
  };

  // --- SBOM-based scans

  interface Component {
    purl: string;
    license?: string;
  }

  const cyclonedx = (digest: string, components: Component[]) =>
    inTotoStatement(digest, 'https://cyclonedx.org/bom', {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      components: components.map((c) => {
        const [, name, version] = /^pkg:[^/]+\/(?:.*\/)?([^@/]+)@([^?]+)/.exec(decodeURIComponent(c.purl))!;
        return {
          type: 'library',
          name,
          version,
          purl: c.purl,
          ...(c.license ? { licenses: [{ expression: c.license }] } : {}),
        };
      }),
    });

  /** A signed image with an SBOM attestation listing these components, signed with `key`. */
  async function imageWithSbom(components: Component[], key = release): Promise<string> {
    const img = await pushImage(registry.host, REPO, `sbom-${unique()}`);
    await pushKeySignature(registry.host, REPO, img.digest, release);
    await pushCosignAttestations(registry.host, REPO, img.digest, [
      keyAttestation(cyclonedx(img.digest, components), key),
    ]);
    return img.digest;
  }

  const VULNERABLE: Component[] = [
    { purl: 'pkg:npm/lodash@4.17.20' },
    { purl: 'pkg:npm/minimist@1.2.5' },
    { purl: 'pkg:pypi/Django@4.2.7' },
    { purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1' },
    { purl: 'pkg:golang/golang.org/x/net@v0.16.0' },
    { purl: 'pkg:cargo/smallvec@1.6.0' },
    { purl: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u1?distro=debian-12&upstream=openssl' },
    { purl: 'pkg:apk/alpine/busybox@1.36.1-r2?distro=alpine-3.18.4' },
    { purl: 'pkg:npm/express@4.18.0' }, // its only advisory is withdrawn
  ];
  const FIXED: Component[] = [
    { purl: 'pkg:npm/lodash@4.17.21' },
    { purl: 'pkg:npm/minimist@1.2.6' },
    { purl: 'pkg:pypi/django@4.2.8' },
    { purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1' },
    { purl: 'pkg:golang/golang.org/x/net@v0.17.0' },
    { purl: 'pkg:cargo/smallvec@1.6.1' },
    { purl: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=debian-12&upstream=openssl' },
    { purl: 'pkg:apk/alpine/busybox@1.36.1-r7?distro=alpine-3.18.4' },
  ];
  const vulnerabilities = (extra: Record<string, unknown> = {}) => ({
    ...signers,
    scans: { vulnerabilities: { maxSeverity: 'medium', ...extra } },
  });

  describe('vulnerabilities', () => {
    it('rejects vulnerable packages in every ecosystem, listing each with its fix', async () => {
      const p = await promote(vulnerabilities(), await imageWithSbom(VULNERABLE));
      expectStatus(p, 'rejected');
      const c = check(p, 'vulnerabilities');
      expect(c.status).toBe('fail');
      const byId = Object.fromEntries(c.findings.map((f: any) => [f.advisory, f]));
      expect(Object.keys(byId).sort()).toEqual([
        'TEST-ALPINE-0001',
        'TEST-DEB-0001',
        'TEST-GO-0001',
        'TEST-MAVEN-0001',
        'TEST-NPM-0001',
        'TEST-NPM-0002',
        'TEST-PYPI-0001',
        'TEST-RUST-0001',
      ]);
      expect(byId['TEST-PYPI-0001']).toMatchObject({
        package: 'pkg:pypi/Django@4.2.7',
        version: '4.2.7',
        severity: 'critical',
        score: 9.8,
        fixedIn: '4.2.8',
        fix: 'upgrade Django to 4.2.8 or later',
        aliases: ['CVE-2099-0002'],
        blocking: true,
      });
      expect(byId['TEST-MAVEN-0001']).toMatchObject({ fixedIn: '2.15.0', blocking: true });
      expect(byId['TEST-ALPINE-0001']).toMatchObject({ fixedIn: '1.36.1-r7', blocking: true });
      // Low is within the ceiling: listed, not blocking.
      expect(byId['TEST-NPM-0002']).toMatchObject({ severity: 'low', blocking: false });
      // Every blocking finding is a reason of its own, not only the first.
      const listed = p.reasons.filter((r: string) => r.startsWith('vulnerabilities: TEST-'));
      expect(listed).toHaveLength(7);
      expect(p.reasons).toContain(
        'vulnerabilities: TEST-GO-0001 (CVE-2099-0004) high 7.5 in pkg:golang/golang.org/x/net@v0.16.0: upgrade golang.org/x/net to 0.17.0 or later',
      );
      expect(c.summary).toMatch(/advisory import #\d+/);
    });

    it('passes the same packages at their fixed versions', async () => {
      const p = await promote(vulnerabilities(), await imageWithSbom(FIXED));
      expectStatus(p, 'approved');
      expect(check(p, 'vulnerabilities')).toMatchObject({ status: 'pass', findings: [] });
    });

    it('an allow-listed advisory (by alias) passes until the entry expires', async () => {
      const digest = await imageWithSbom([{ purl: 'pkg:pypi/django@4.2.7' }]);
      const allow = (expires: string) =>
        vulnerabilities({ allow: [{ id: 'CVE-2099-0002', reason: 'the ORM path is not used', expires }] });
      const live = await promote(allow('2099-01-01T00:00:00Z'), digest);
      expectStatus(live, 'approved');
      expect(check(live, 'vulnerabilities').findings[0]).toMatchObject({
        advisory: 'TEST-PYPI-0001',
        blocking: false,
        note: 'allow-listed until 2099-01-01T00:00:00Z: the ORM path is not used',
      });
      const expired = await promote(allow('2020-01-01T00:00:00Z'), digest);
      expectStatus(expired, 'rejected');
      expect(check(expired, 'vulnerabilities').findings[0].note).toMatch(/allow-list entry expired/);
    });

    it('fixableOnly lets an unfixed advisory through; its database rating counts otherwise', async () => {
      const digest = await imageWithSbom([{ purl: 'pkg:npm/left-pad@1.3.0' }]);
      const strict = await promote(vulnerabilities(), digest);
      expectStatus(strict, 'rejected');
      expect(check(strict, 'vulnerabilities').findings[0]).toMatchObject({
        advisory: 'TEST-NPM-0003',
        severity: 'high',
        fixedIn: null,
      });
      const fixable = await promote(vulnerabilities({ fixableOnly: true }), digest);
      expectStatus(fixable, 'approved');
    });

    it('reads SPDX SBOMs too: package URLs from externalRefs', async () => {
      const img = await pushImage(registry.host, REPO, `spdx-${unique()}`);
      await pushKeySignature(registry.host, REPO, img.digest, release);
      const spdx = inTotoStatement(img.digest, 'https://spdx.dev/Document', {
        spdxVersion: 'SPDX-2.3',
        dataLicense: 'CC0-1.0',
        SPDXID: 'SPDXRef-DOCUMENT',
        name: 'app',
        documentNamespace: `https://example.com/spdx/app-${unique()}`,
        creationInfo: { created: '2026-11-01T00:00:00Z', creators: ['Tool: syft-1.0.0'] },
        packages: [
          {
            SPDXID: 'SPDXRef-Package-log4j',
            name: 'log4j-core',
            versionInfo: '2.14.1',
            downloadLocation: 'NOASSERTION',
            licenseConcluded: 'Apache-2.0',
            externalRefs: [
              {
                referenceCategory: 'PACKAGE-MANAGER',
                referenceType: 'purl',
                referenceLocator: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1',
              },
            ],
          },
        ],
      });
      await pushCosignAttestations(registry.host, REPO, img.digest, [keyAttestation(spdx, release)]);
      const p = await promote(vulnerabilities(), img.digest);
      expectStatus(p, 'rejected');
      expect(check(p, 'vulnerabilities').findings[0]).toMatchObject({
        advisory: 'TEST-MAVEN-0001',
        fix: 'upgrade org.apache.logging.log4j:log4j-core to 2.15.0 or later',
      });
    });

    it('an SBOM that does not validate against its schema hides nothing: both SBOM checks block', async () => {
      const img = await pushImage(registry.host, REPO, `invalid-sbom-${unique()}`);
      await pushKeySignature(registry.host, REPO, img.digest, release);
      const broken = inTotoStatement(img.digest, 'https://cyclonedx.org/bom', {
        bomFormat: 'CycloneDX',
        specVersion: '1.5',
        components: [{ type: 'library', version: '4.17.20', purl: 'pkg:npm/lodash@4.17.20' }], // no name
      });
      await pushCosignAttestations(registry.host, REPO, img.digest, [keyAttestation(broken, release)]);
      const p = await promote(
        {
          ...signers,
          scans: { vulnerabilities: { maxSeverity: 'medium' }, licenses: { deny: ['GPL-3.0-only'] } },
        },
        img.digest,
      );
      expectStatus(p, 'rejected');
      expect(check(p, 'vulnerabilities').status).toBe('fail');
      expect(check(p, 'licenses').status).toBe('fail');
      expect(p.reasons.join('\n')).toMatch(
        /vulnerabilities: cannot be checked: #0: CycloneDX 1.5 document does not match its schema/,
      );
    });

    it('a ceiling of critical lets high through', async () => {
      const digest = await imageWithSbom([{ purl: 'pkg:npm/lodash@4.17.20' }]);
      expectStatus(await promote(vulnerabilities({ maxSeverity: 'high' }), digest), 'approved');
    });

    it('refuses an image without a verified SBOM: none, or signed by someone else', async () => {
      const bare = await pushImage(registry.host, REPO, `bare-${unique()}`);
      await pushKeySignature(registry.host, REPO, bare.digest, release);
      const none = await promote(vulnerabilities(), bare.digest);
      expectStatus(none, 'rejected');
      expect(check(none, 'vulnerabilities').summary).toMatch(/no SBOM attestation verified/);
      const forged = await promote(vulnerabilities(), await imageWithSbom(FIXED, stranger));
      expectStatus(forged, 'rejected');
      expect(check(forged, 'vulnerabilities').summary).toMatch(/no SBOM attestation verified/);
    });
  });

  describe('licenses', () => {
    const licenses = (extra: Record<string, unknown> = {}) => ({
      ...signers,
      scans: {
        licenses: {
          allow: ['MIT', 'Apache-2.0', 'BSD-3-Clause'],
          deny: ['AGPL-3.0-only', 'GPL-3.0-only'],
          ...extra,
        },
      },
    });

    it('passes allowed licenses, including a choice that avoids a denied one', async () => {
      const digest = await imageWithSbom([
        { purl: 'pkg:npm/a@1.0.0', license: 'MIT' },
        { purl: 'pkg:npm/b@1.0.0', license: 'Apache-2.0 AND BSD-3-Clause' },
        { purl: 'pkg:npm/c@1.0.0', license: 'MIT OR AGPL-3.0-only' },
      ]);
      const p = await promote(licenses(), digest);
      expectStatus(p, 'approved');
      expect(check(p, 'licenses')).toMatchObject({
        status: 'pass',
        summary: '3 package licenses checked, all allowed',
      });
    });

    it('rejects denied, unlisted and unknown licenses, each as a finding', async () => {
      const digest = await imageWithSbom([
        { purl: 'pkg:npm/ok@1.0.0', license: 'MIT' },
        { purl: 'pkg:npm/copyleft@2.0.0', license: 'MIT AND AGPL-3.0-only' },
        { purl: 'pkg:pypi/isc-thing@1.0', license: 'ISC' },
        { purl: 'pkg:cargo/mystery@0.1.0' },
      ]);
      const p = await promote(licenses(), digest);
      expectStatus(p, 'rejected');
      const findings = check(p, 'licenses').findings;
      expect(findings.map((f: any) => [f.package, f.outcome, f.blocking])).toEqual([
        ['pkg:npm/copyleft@2.0.0', 'denied', true],
        ['pkg:pypi/isc-thing@1.0', 'not-allowed', true],
        ['pkg:cargo/mystery@0.1.0', 'unknown', true],
      ]);
      expect(findings[0].detail).toBe('MIT AND AGPL-3.0-only needs AGPL-3.0-only, which the policy denies');
      expect(p.reasons.filter((r: string) => r.startsWith('licenses: pkg:'))).toHaveLength(3);
    });

    it('unknown licenses only warn when the policy says so', async () => {
      const digest = await imageWithSbom([
        { purl: 'pkg:npm/ok@1.0.0', license: 'MIT' },
        { purl: 'pkg:npm/mystery@1.0.0' },
      ]);
      const p = await promote(licenses({ unknown: 'warn' }), digest);
      expectStatus(p, 'approved');
      expect(check(p, 'licenses').findings).toEqual([
        expect.objectContaining({ outcome: 'unknown', blocking: false }),
      ]);
    });
  });

  // --- Secret scan

  const secrets = (allow?: unknown[]) => ({ scans: { secrets: allow ? { allow } : {} } });

  describe('secrets', () => {
    it('finds planted secrets, and one deleted in a later layer, without storing any of them', async () => {
      const s = fakeSecrets();
      const files = secretFiles(s);
      const early = files.slice(0, 5);
      const late = files.slice(5);
      const deleted = early[0]; // the private key, removed by a later layer's whiteout
      const { digest } = await pushLayers(registry.host, REPO, `secrets-${unique()}`, [
        {
          bytes: gzip(await tarLayer(early.map((f) => ({ path: f.path, content: f.content })))),
          mediaType: LAYER_GZIP,
        },
        {
          bytes: zstd(await tarLayer(late.map((f) => ({ path: f.path, content: f.content })))),
          mediaType: LAYER_ZSTD,
        },
        { bytes: gzip(await tarLayer([whiteout(deleted.path)])), mediaType: LAYER_GZIP },
      ]);
      const p = await promote(secrets(), digest);
      expectStatus(p, 'rejected');
      const c = check(p, 'secrets');
      expect(c.status).toBe('fail');
      const paths = c.findings.map((f: any) => f.path).sort();
      expect(paths).toEqual(files.map((f) => f.path).sort());
      const key = c.findings.find((f: any) => f.path === deleted.path);
      expect(key).toMatchObject({
        rule: deleted.rule,
        deletedIn: expect.stringMatching(/^sha256:/),
        fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
        preview: expect.stringContaining('****'),
        fix: expect.stringMatching(/^remove root\/\.ssh\/id_ecdsa from the image/),
        blocking: true,
      });
      expect(
        p.reasons.filter((r: string) => r.startsWith('secrets: ') && r.includes('fingerprint')),
      ).toHaveLength(files.length);
      // The secrets themselves are nowhere: not in the answer, the check rows or the audit trail.
      const everything = JSON.stringify([
        p,
        await rig.sql('SELECT findings, summary FROM promotion_check WHERE promotion_id = $1', [p.id]),
        await rig.sql('SELECT details FROM audit_event WHERE subject_id = $1', [p.id]),
      ]);
      for (const f of files) expect(everything).not.toContain(f.secret.slice(0, 60));
    });

    it('passes a clean image', async () => {
      const img = await pushImage(registry.host, REPO, `clean-${unique()}`, {
        files: [{ 'app/main.js': 'console.log("hello")\n', 'app/README.md': '# app\n' }],
      });
      const p = await promote(secrets(), img.digest);
      expectStatus(p, 'approved');
      expect(check(p, 'secrets')).toMatchObject({ status: 'pass', findings: [] });
    });

    it('runs the rule sets a policy names, from the deployment’s rule files, in the scan process', async () => {
      const token = `acme_${randomBytes(16).toString('hex')}`;
      const { digest } = await pushLayers(registry.host, REPO, `acme-${unique()}`, [
        {
          bytes: gzip(await tarLayer([{ path: 'srv/notes.txt', content: `internal: ${token}\n` }])),
          mediaType: LAYER_GZIP,
        },
      ]);
      // Without the set, nothing built in knows the format.
      expectStatus(await promote(secrets(), digest), 'approved');
      const p = await promote({ scans: { secrets: { rules: ['acme'] } } }, digest);
      expectStatus(p, 'rejected');
      expect(check(p, 'secrets').findings).toEqual([
        expect.objectContaining({
          rule: expect.stringContaining('acme-internal-token'),
          path: 'srv/notes.txt',
        }),
      ]);
      expect(JSON.stringify(p)).not.toContain(token);
    });

    it('an allow-listed fingerprint passes until it expires', async () => {
      const s = fakeSecrets();
      const file = secretFiles(s).find((f) => f.rule === 'github/GITHUB_TOKEN')!;
      const { digest } = await pushLayers(registry.host, REPO, `allow-${unique()}`, [
        { bytes: gzip(await tarLayer([{ path: file.path, content: file.content }])), mediaType: LAYER_GZIP },
      ]);
      const first = await promote(secrets(), digest);
      const fingerprint = check(first, 'secrets').findings[0].fingerprint;
      const allowed = await promote(
        secrets([{ fingerprint, reason: 'revoked test token', expires: '2099-01-01T00:00:00Z' }]),
        digest,
      );
      expectStatus(allowed, 'approved');
      expect(check(allowed, 'secrets').findings[0]).toMatchObject({ blocking: false });
      const expired = await promote(
        secrets([{ fingerprint, reason: 'revoked test token', expires: '2020-01-01T00:00:00Z' }]),
        digest,
      );
      expectStatus(expired, 'rejected');
    });

    it('a layer over the configured entry limit refuses the image', async () => {
      const entries = Array.from({ length: 2_100 }, (_, i) => ({ path: `many/f${i}.txt`, content: 'x' }));
      const { digest } = await pushLayers(registry.host, REPO, `many-${unique()}`, [
        { bytes: gzip(await tarLayer(entries)), mediaType: LAYER_GZIP },
      ]);
      const p = await promote(secrets(), digest);
      expectStatus(p, 'rejected');
      expect(check(p, 'secrets')).toMatchObject({ status: 'error', attempts: 1 });
      expect(check(p, 'secrets').summary).toMatch(/2000/);
    });

    it('scans every platform of an index, and skips the attestation manifests BuildKit adds', async () => {
      const file = secretFiles(fakeSecrets()).find((f) => f.rule === 'github/GITHUB_TOKEN')!;
      const amd64 = await pushLayers(registry.host, REPO, `amd64-${unique()}`, [
        { bytes: gzip(await tarLayer([{ path: 'app/main.js', content: 'run()\n' }])), mediaType: LAYER_GZIP },
      ]);
      const arm64 = await pushLayers(registry.host, REPO, `arm64-${unique()}`, [
        { bytes: gzip(await tarLayer([{ path: file.path, content: file.content }])), mediaType: LAYER_GZIP },
      ]);
      const provenance = await pushArtifactManifest(registry.host, REPO, `att-${unique()}`, {
        layers: [
          {
            mediaType: 'application/vnd.in-toto+json',
            bytes: Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}'),
          },
        ],
      });
      const index = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: [
            { mediaType: OCI_MANIFEST, ...amd64, platform: { os: 'linux', architecture: 'amd64' } },
            { mediaType: OCI_MANIFEST, ...arm64, platform: { os: 'linux', architecture: 'arm64' } },
            {
              mediaType: OCI_MANIFEST,
              digest: provenance.digest,
              size: provenance.manifestBytes.length,
              platform: { os: 'unknown', architecture: 'unknown' },
              annotations: {
                'vnd.docker.reference.type': 'attestation-manifest',
                'vnd.docker.reference.digest': amd64.digest,
              },
            },
          ],
        }),
      );
      const digest = await pushRawManifest(
        registry.host,
        REPO,
        `index-${unique()}`,
        index,
        'application/vnd.oci.image.index.v1+json',
      );
      const p = await promote(secrets(), digest);
      expectStatus(p, 'rejected');
      const c = check(p, 'secrets');
      expect(c.status).toBe('fail');
      expect(c.findings).toEqual([
        expect.objectContaining({
          path: file.path,
          rule: file.rule,
          layer: expect.stringMatching(/^sha256:/),
        }),
      ]);
    });

    it.each([
      ['a gzip bomb', async () => gzipBomb(2 * 1024 ** 3), /compress|ratio|limit/i],
      [
        'a ../ entry',
        async () => gzip(await tarLayer([{ path: '../../etc/cron.d/x', content: 'x' }])),
        /outside|\.\./i,
      ],
      [
        'a symlink out of the root',
        async () =>
          gzip(await tarLayer([{ path: 'app/escape', type: 'symlink', target: '../../../../etc/shadow' }])),
        /link/i,
      ],
      [
        'a truncated archive',
        async () =>
          gzip(await tarLayer([{ path: 'a.txt', content: randomBytes(100_000).toString('hex') }])).subarray(
            0,
            2_000,
          ),
        /malformed|end|truncat|unexpected/i,
      ],
    ])(
      'rejects an image with %s: the check errors with a clear message, at once',
      async (_what, layer, message) => {
        const { digest } = await pushLayers(registry.host, REPO, `hostile-${unique()}`, [
          { bytes: await layer(), mediaType: LAYER_GZIP },
        ]);
        const p = await promote(secrets(), digest);
        expectStatus(p, 'rejected');
        const c = check(p, 'secrets');
        expect(c.status).toBe('error');
        expect(c.attempts).toBe(1); // not retried: reading it again cannot help
        expect(c.summary).toMatch(/could not read every layer/);
        expect(c.summary).toMatch(message);
        expect(p.reasons.join('\n')).toMatch(/^secrets: /m);
      },
    );
  });

  it('one image with a secret, a vulnerable package and a denied license: every finding, every kind', async () => {
    const file = secretFiles(fakeSecrets()).find((f) => f.rule === 'aws/AWSAccessKeyID')!;
    const { digest } = await pushLayers(registry.host, REPO, `all-${unique()}`, [
      { bytes: gzip(await tarLayer([{ path: file.path, content: file.content }])), mediaType: LAYER_GZIP },
    ]);
    await pushKeySignature(registry.host, REPO, digest, release);
    await pushCosignAttestations(registry.host, REPO, digest, [
      keyAttestation(
        cyclonedx(digest, [
          { purl: 'pkg:npm/lodash@4.17.20', license: 'MIT' },
          { purl: 'pkg:npm/copyleft@1.0.0', license: 'GPL-3.0-only' },
        ]),
        release,
      ),
    ]);
    const p = await promote(
      {
        ...signers,
        scans: {
          secrets: {},
          vulnerabilities: { maxSeverity: 'medium' },
          licenses: { deny: ['GPL-3.0-only'] },
        },
      },
      digest,
    );
    expectStatus(p, 'rejected');
    for (const kind of ['secrets', 'vulnerabilities', 'licenses']) expect(check(p, kind).status).toBe('fail');
    const reasons = p.reasons.join('\n');
    expect(reasons).toContain('secrets: AWS');
    expect(reasons).toContain('vulnerabilities: TEST-NPM-0001');
    expect(reasons).toContain('licenses: pkg:npm/copyleft@1.0.0: GPL-3.0-only needs GPL-3.0-only');
  });

  describe('advisory imports', () => {
    it('are idempotent and versioned: same bytes, same import; newer versions replace older ones', async () => {
      const id = `TEST-VERSIONED-${unique()}`;
      const v1 = {
        id,
        modified: '2026-01-01T00:00:00Z',
        summary: 'first',
        affected: [{ package: { ecosystem: 'npm', name: `pkg-${id}` }, versions: ['1.0.0'] }],
      };
      const first = await rig.call('POST', '/v1/advisories/imports', { as: 'admin', body: v1 });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ documents: 1, added: 1, updated: 0, unchanged: 0 });
      const again = await rig.call('POST', '/v1/advisories/imports', { as: 'admin', body: v1 });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);

      const v2 = { ...v1, modified: '2026-02-01T00:00:00Z', summary: 'second' };
      const older = { ...v1, modified: '2025-12-01T00:00:00Z', summary: 'older' };
      const second = await rig.call('POST', '/v1/advisories/imports', { as: 'admin', body: [v2, older] });
      expect(second.status).toBe(201);
      expect(second.body).toMatchObject({ documents: 2, added: 0, updated: 1, unchanged: 1 });
      expect(second.body.seq).toBeGreaterThan(first.body.seq);
      const stored = await rig.call('GET', `/v1/advisories/${id}`, { as: 'auditor' });
      expect(stored.body).toMatchObject({ summary: 'second', revision: 2, importId: second.body.id });
      const stale = await rig.call('POST', '/v1/advisories/imports', { as: 'admin', body: older });
      expect(stale.body).toMatchObject({ added: 0, updated: 0, unchanged: 1 });
      expect((await rig.call('GET', `/v1/advisories/${id}`, { as: 'auditor' })).body.summary).toBe('second');

      const list = await rig.call('GET', '/v1/advisories/imports?limit=2', { as: 'auditor' });
      expect(list.body.items[0].seq).toBeGreaterThan(list.body.items[1].seq);
      const audit = await rig.sql(
        "SELECT count(*)::int AS n FROM audit_pending WHERE action = 'advisories.imported'",
      );
      const sealed = await rig.sql(
        "SELECT count(*)::int AS n FROM audit_event WHERE action = 'advisories.imported'",
      );
      expect(audit[0].n + sealed[0].n).toBeGreaterThanOrEqual(3);
    });

    it('a zip bomb is refused and stores nothing', async () => {
      const before = await rig.sql('SELECT count(*)::int AS n FROM advisory');
      const bomb = await osvZip([
        { id: `BOMB-${unique()}`, modified: '2026-01-01T00:00:00Z', details: 'x'.repeat(20 * 1024 ** 2) },
      ]);
      const res = await rig.call('POST', '/v1/advisories/imports', {
        as: 'admin',
        rawBody: bomb,
        headers: { 'content-type': 'application/zip' },
      });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({
        code: 'invalid_advisories',
        detail: expect.stringMatching(/bytes; at most/),
      });
      expect(await rig.sql('SELECT count(*)::int AS n FROM advisory')).toEqual(before);
    });
  });
});
