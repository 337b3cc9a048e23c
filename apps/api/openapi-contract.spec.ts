// The OpenAPI document is a contract: every operation named for a client generator, summarized,
// described, tagged, with its success and error responses. Redocly's linter (redocly.yaml) must
// find nothing in docs/openapi.json (its staleness is checked by test/e2e/platform.e2e-spec.ts).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(__dirname, '../..');

describe('docs/openapi.json', () => {
  it('passes the OpenAPI lint with no error and no warning', async () => {
    const cli = require.resolve('@redocly/cli/bin/cli.js', { paths: [ROOT] });
    const run = promisify(execFile);
    const result = await run(process.execPath, [cli, 'lint', 'docs/openapi.json', '--format=json'], {
      cwd: ROOT,
      // No telemetry or update check: the suite runs offline.
      // eslint-disable-next-line no-restricted-properties -- the linter's own process, not Airlock's configuration
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
    const report = JSON.parse(result.stdout) as {
      totals: { errors: number; warnings: number };
      problems: Array<{ ruleId: string; message: string; location?: Array<{ pointer?: string }> }>;
    };
    const problems = report.problems.map((p) => `${p.ruleId} at ${p.location?.[0]?.pointer}: ${p.message}`);
    expect(problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 60_000);

  it("is what the CLI's generated types were made from (npm run openapi regenerates both)", async () => {
    const cli = resolve(ROOT, 'node_modules/openapi-typescript/bin/cli.js');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [cli, 'docs/openapi.json', '--redocly', 'apps/cli/api-schema.redocly.yaml'],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
    );
    const committed = readFileSync(resolve(ROOT, 'apps/cli/api-schema.d.ts'), 'utf8');
    // Compared without the generator's banner line, which may carry its version.
    const body = (text: string): string => text.replace(/^\/\*\*[\s\S]*?\*\/\s*/, '').trim();
    expect(body(stdout) === body(committed)).toBe(true);
  }, 60_000);
});
