import {
  ciRepositoryFor,
  mayRequestRepository,
  type RequesterScope,
  type SourceRule,
} from './environment-rules';

const staging: SourceRule = { registry: 'registry.staging.example.com', repositories: ['acme/*', 'team/**'] };
const mirror: SourceRule = {
  registry: '127.0.0.1:5001',
  repositories: ['mirror/**'],
  ciRepository: 'mirror/{repository}',
};
const art = (repository: string, registry = staging.registry) => ({ registry, repository });
const ci = (
  claimRepository: string | undefined,
  grantPatterns: Array<string | null> = [null],
): RequesterScope => ({
  kind: 'ci',
  claimRepository,
  grantPatterns,
});
const human = (grantPatterns: Array<string | null>): RequesterScope => ({ kind: 'human', grantPatterns });

describe(ciRepositoryFor.name, () => {
  it.each([
    [{}, 'acme/app', 'acme/app'],
    [{ ciRepository: '{repository}' }, 'acme/app', 'acme/app'],
    [{ ciRepository: 'mirror/{repository}' }, 'acme/app', 'mirror/acme/app'],
    [{ ciRepository: '{repository}/images' }, 'Acme/App', 'acme/app/images'],
  ])('%j maps the claim %s to %s', (rule, claim, want) => {
    expect(ciRepositoryFor(rule, claim)).toBe(want);
  });
});

describe(mayRequestRepository.name, () => {
  it.each<[string, SourceRule[], ReturnType<typeof art>, RequesterScope, boolean]>([
    ['a CI workload, its own repository', [staging], art('acme/app'), ci('acme/app'), true],
    [
      'a CI workload, its own repository (claim case differs)',
      [staging],
      art('acme/app'),
      ci('Acme/App'),
      true,
    ],
    ['a CI workload, another repository', [staging], art('acme/app'), ci('acme/other'), false],
    ['a CI workload of team/app asking for acme/app', [staging], art('acme/app'), ci('team/app'), false],
    ['a CI workload without a repository claim', [staging], art('acme/app'), ci(undefined), false],
    ['a CI workload with no requester grant here', [staging], art('acme/app'), ci('acme/app', []), false],
    ['the mapping: mirror/<claim>', [mirror], art('mirror/acme/app', mirror.registry), ci('acme/app'), true],
    [
      'the mapping: the bare claim is not the mapped repository',
      [{ ...mirror, repositories: ['mirror/**', 'acme/*'] }],
      art('acme/app', mirror.registry),
      ci('acme/app'),
      false,
    ],
    [
      'the mapping is per source rule: another registry’s rule does not apply',
      [staging, mirror],
      art('mirror/acme/app', staging.registry),
      ci('acme/app'),
      false,
    ],
    ['a widening binding', [staging], art('acme/app'), ci('acme/other', ['acme/*']), true],
    [
      'a widening binding still allows its own repository',
      [staging],
      art('acme/other'),
      ci('acme/other', ['team/*']),
      true,
    ],
    [
      'a widening binding that does not match',
      [staging],
      art('acme/app'),
      ci('acme/other', ['team/**']),
      false,
    ],
    ['a person whose binding has no pattern', [staging], art('acme/app'), human([null]), true],
    [
      'a person whose only binding has a pattern that matches',
      [staging],
      art('acme/app'),
      human(['acme/*']),
      true,
    ],
    [
      'a person whose only binding has a pattern that does not',
      [staging],
      art('acme/app'),
      human(['team/**']),
      false,
    ],
    ['a person with no requester grant', [staging], art('acme/app'), human([]), false],
  ])('%s', (_, sources, artifact, scope, want) => {
    expect(mayRequestRepository(sources, artifact, scope)).toBe(want);
  });
});
