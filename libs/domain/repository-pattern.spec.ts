import { isSourceAllowed, targetRepositoryFor } from './environment-rules';
import { isValidRepositoryPattern, matchesRepositoryPattern } from './repository-pattern';

describe('repository patterns', () => {
  it.each([
    ['team/app', 'team/app', true],
    ['team/app', 'team/app2', false],
    ['team/*', 'team/app', true],
    ['team/*', 'team/a/b', false],
    ['team/**', 'team/a/b', true],
    ['team/**', 'team', false],
    ['*', 'app', true],
    ['a.b', 'axb', false],
    ['team/*', 'other/app', false],
  ])('%s against %s → %s', (pattern, repo, expected) => {
    expect(matchesRepositoryPattern(pattern, repo)).toBe(expected);
  });

  it.each([
    '',
    'Team/app',
    'team/(a|b)',
    'team/a*',
    '/team',
    'team/',
    'a'.repeat(300),
    'team/.*',
    '../**',
    'team/../x',
    '.',
  ])('refuses the pattern %p', (pattern) => {
    expect(isValidRepositoryPattern(pattern)).toBe(false);
  });

  it('treats a dot as a literal, never as a regex wildcard', () => {
    expect(matchesRepositoryPattern('team/.app', 'team/xapp')).toBe(false);
  });
});

describe('environment rules', () => {
  const sources = [{ registry: 'staging.example.com', repositories: ['team/*'] }];
  it('allows only a configured registry with a matching repository', () => {
    expect(isSourceAllowed(sources, { registry: 'staging.example.com', repository: 'team/app' })).toBe(true);
    expect(isSourceAllowed(sources, { registry: 'evil.example.com', repository: 'team/app' })).toBe(false);
    expect(isSourceAllowed(sources, { registry: 'staging.example.com', repository: 'other/app' })).toBe(
      false,
    );
  });

  it('maps the target repository', () => {
    expect(targetRepositoryFor({ registry: 'prod', repository: 'prod/{repository}' }, 'team/app')).toBe(
      'prod/team/app',
    );
    expect(targetRepositoryFor({ registry: 'prod', repository: 'fixed' }, 'team/app')).toBe('fixed');
  });
});
