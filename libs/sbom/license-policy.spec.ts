import { evaluateLicense } from './license-policy';

describe(evaluateLicense.name, () => {
  const policy = {
    allow: ['MIT', 'Apache-2.0', 'BSD-3-Clause', 'GPL-2.0+'],
    deny: ['AGPL-3.0-only', 'GPL-3.0-only'],
  };
  it.each([
    ['MIT', 'allowed'],
    ['MIT OR AGPL-3.0-only', 'allowed'], // the package may be used under MIT
    ['MIT AND AGPL-3.0-only', 'denied'],
    ['AGPL-3.0-only OR GPL-3.0-only', 'denied'],
    ['(MIT OR AGPL-3.0-only) AND GPL-3.0-only', 'denied'],
    ['Apache-2.0 AND MIT', 'allowed'],
    ['ISC', 'not-allowed'],
    ['MIT AND ISC', 'not-allowed'],
    ['GPL-2.0-or-later', 'allowed'],
    ['LicenseRef-Proprietary', 'not-allowed'],
    ['NOASSERTION', 'unknown'],
    ['MIT ANDOR', 'unknown'],
  ])('%s is %s', (expression, outcome) => {
    expect(evaluateLicense(expression, policy).outcome).toBe(outcome);
  });

  it('names the denied licenses a package cannot avoid', () => {
    expect(evaluateLicense('MIT AND (AGPL-3.0-only OR GPL-3.0-only)', policy)).toEqual({
      outcome: 'denied',
      licenses: ['AGPL-3.0-only', 'GPL-3.0-only'],
    });
  });

  it('no license is unknown; a deny list alone allows everything else', () => {
    expect(evaluateLicense(null, policy)).toEqual({ outcome: 'unknown', why: 'no license given' });
    expect(evaluateLicense('ISC', { deny: ['GPL-3.0-only'] }).outcome).toBe('allowed');
    expect(evaluateLicense('GPL-3.0-only', { deny: ['GPL-3.0-only'] }).outcome).toBe('denied');
  });
});
