// The OpenAPI document is a contract: every operation named for a client generator, summarized,
// described, tagged, with its success and error responses. Redocly's linter (redocly.yaml) must
// find nothing in docs/openapi.json (its staleness is checked by test/e2e/platform.e2e-spec.ts).
import { execFile } from 'node:child_process';
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
});
