/**
 * Repository patterns as admins write them in an environment: `team/app`, `team/*` (one path
 * component) or `team/**` (any depth). Compiled to anchored regular expressions with no
 * backtracking hazards: the only wildcards are bounded character classes.
 */
const PATTERN = /^(?:[a-z0-9._-]+|\*|\*\*)(?:\/(?:[a-z0-9._-]+|\*|\*\*))*$/;

export function isValidRepositoryPattern(pattern: string): boolean {
  // `.` and `..` are path tricks, never repository names.
  return (
    pattern.length <= 255 && PATTERN.test(pattern) && pattern.split('/').every((c) => c !== '.' && c !== '..')
  );
}

export function compileRepositoryPattern(pattern: string): RegExp {
  if (!isValidRepositoryPattern(pattern)) throw new Error(`invalid repository pattern ${pattern}`);
  const body = pattern
    .split('/')
    .map((part) => {
      if (part === '**') return '[a-z0-9._/-]+';
      if (part === '*') return '[a-z0-9._-]+';
      return part.replace(/[.]/g, '\\.');
    })
    .join('/');
  return new RegExp(`^${body}$`);
}

export function matchesRepositoryPattern(pattern: string, repository: string): boolean {
  return compileRepositoryPattern(pattern).test(repository);
}
