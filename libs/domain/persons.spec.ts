import { identityFormProblem, isSamePerson, type PersonNames } from './persons';

const ISSUER = 'https://people.example.com';

describe(isSamePerson.name, () => {
  // erin's second account (frank) is linked to erin's person; erin herself is unlinked.
  const frankLinked: PersonNames = {
    person: `erin@${ISSUER}`,
    aliases: [`erin@${ISSUER}`, `frank@${ISSUER}`, 'handle:frank'],
  };
  const frank: PersonNames = { person: `frank@${ISSUER}`, aliases: [`frank@${ISSUER}`, 'handle:frank'] };
  it.each([
    ['the same identity', frank, `frank@${ISSUER}`, true],
    ['another, unlinked person', frank, `erin@${ISSUER}`, false],
    ['a second account linked to that person', frankLinked, `erin@${ISSUER}`, true],
    [
      'a person id the caller is linked to',
      { person: 'p-erin', aliases: ['p-erin', `frank@${ISSUER}`] },
      'p-erin',
      true,
    ],
    ['their handle, as CI claims name them', frank, 'handle:frank', true],
    ['a handle of someone else', frank, 'handle:erin', false],
  ])('%s', (_name, names, other, same) => {
    expect(isSamePerson(names, other)).toBe(same);
  });
});

describe(identityFormProblem.name, () => {
  it.each([
    `erin@${ISSUER}`,
    'erin@http://127.0.0.1:5556/people',
    'repo:acme/app:ref:refs/heads/main@https://token.actions.githubusercontent.com',
    'someone@example.com@https://login.example.com/tenant/v2.0',
    'handle:carol',
    'handle:octo-cat',
    'handle:first.last@example.com',
  ])('accepts %s', (identity) => {
    expect(identityFormProblem(identity)).toBeNull();
  });

  it.each([
    ['a regular expression', '.*'],
    ['NaN', 'NaN'],
    ['a Windows path', 'C:\\Users\\erin'],
    ['a bare name', 'erin'],
    ['an empty handle', 'handle:'],
    ['a handle with a space', 'handle:a b'],
    ['a handle with a wildcard', 'handle:*'],
    ['an issuer that is not a URL', 'erin@people'],
    ['a subject without an issuer', 'erin@'],
    ['an issuer with a query', `erin@${ISSUER}/?x=1`],
    ['an issuer with credentials', 'erin@https://user:pw@people.example.com'],
    ['whitespace', ` erin@${ISSUER}`],
    ['an empty string', ''],
  ])('refuses %s', (_name, identity) => {
    expect(identityFormProblem(identity)).toMatch(/^identity: /);
  });

  it('says what a handle must look like when it starts like one', () => {
    expect(identityFormProblem('handle:a b')).toContain('handle:<name>');
  });
});
