// A build of libs/ at an earlier commit, for benches that compare this build with the one before a
// change side by side in the same run (a figure from another day on a shared machine compares
// nothing). The commit's libs/ are taken from git history (`git archive`), compiled with this
// checkout's swc into /tmp/airlock-bench-baseline-<rev>/dist, and resolve their packages through
// a symlink to this checkout's node_modules. A finished build is kept and reused (keyed by the
// commit), so only the first run pays for it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Written last: a folder without it is a build that did not finish. */
const DONE = '.built';

/**
 * The dist folder of a baseline build. `override` (an env variable's value) wins: a folder is used
 * as it is, `none` (or an empty string) turns the comparison off (undefined). Without the commit
 * (a shallow clone, a source tarball) the comparison is off too, and the reason printed.
 */
export function baselineBuild(rev: string, override: string | undefined, repo: string): string | undefined {
  if (override !== undefined) return override === '' || override === 'none' ? undefined : override;
  const root = join(tmpdir(), `airlock-bench-baseline-${rev}`);
  try {
    return build(rev, repo, root);
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    console.warn(`no baseline build of ${rev}: ${(error as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

function build(rev: string, repo: string, root: string): string {
  const dist = join(root, 'dist');
  if (existsSync(join(root, DONE))) return dist;
  rmSync(root, { recursive: true, force: true });
  const src = join(root, 'src');
  mkdirSync(src, { recursive: true });
  const started = performance.now();
  const archive = execFileSync('git', ['-C', repo, 'archive', rev, 'libs'], { maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', src], { input: archive });
  execFileSync(
    join(repo, 'node_modules', '.bin', 'swc'),
    [
      'libs',
      '-d',
      dist,
      '--config-file',
      join(repo, '.swcrc'),
      '--ignore',
      '**/*.d.ts,**/*.spec.ts,**/*.e2e-spec.ts',
      '-q',
    ],
    { cwd: src, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  // Packages are found by walking up from dist/libs/…: through root/node_modules.
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'), 'dir');
  writeFileSync(join(root, DONE), `${rev}\n`);
  console.log(`built libs/ at ${rev} into ${dist} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return dist;
}
