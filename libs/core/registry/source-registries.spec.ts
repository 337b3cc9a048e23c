import { RegistryError } from '../../oci';
import { pullOf, pullOnly } from './source-registries';

describe(pullOnly.name, () => {
  const challenge = { realm: 'https://auth.example.com/token', service: 'prod-registry' };

  it('passes pull scopes to the credential profile, as they are', async () => {
    const asked: string[] = [];
    const supplier = pullOnly(async (scope) => {
      asked.push(scope);
      return 'token';
    });
    await expect(supplier('repository:prod/acme/app:pull', challenge)).resolves.toBe('token');
    await expect(supplier('repository:prod/a:pull repository:prod/b:pull', challenge)).resolves.toBe('token');
    expect(asked).toEqual(['repository:prod/acme/app:pull', 'repository:prod/a:pull repository:prod/b:pull']);
  });

  it.each([
    'repository:prod/acme/app:pull,push',
    'repository:prod/acme/app:push',
    'repository:prod/acme/app:*',
    'repository:prod/acme/app:delete',
    'registry:catalog:*',
    'repository:prod/a:pull repository:prod/b:push',
  ])('refuses %p without asking the credential profile', async (scope) => {
    let asked = false;
    const supplier = pullOnly(async () => {
      asked = true;
      return 'token';
    });
    await expect(supplier(scope, challenge)).rejects.toBeInstanceOf(RegistryError);
    expect(asked).toBe(false);
  });
});

describe(pullOf.name, () => {
  const challenge = { realm: 'https://auth.example.com/token', service: 'staging-registry' };

  it('asks the profile for pulls of its repository only', async () => {
    const asked: string[] = [];
    const supplier = pullOf('acme/app', async (scope) => {
      asked.push(scope);
      return 'token';
    });
    await expect(supplier('repository:acme/app:pull', challenge)).resolves.toBe('token');
    expect(asked).toEqual(['repository:acme/app:pull']);
  });

  it.each([
    'repository:acme/app:pull,push',
    'repository:acme/other:pull',
    'repository:acme/app:pull repository:acme/other:pull',
    'repository:acme/app:*',
    'registry:catalog:*',
    '',
  ])('refuses %p (a scan process that asks for it is not doing a scan)', async (scope) => {
    let asked = false;
    const supplier = pullOf('acme/app', async () => {
      asked = true;
      return 'token';
    });
    await expect(supplier(scope, challenge)).rejects.toMatchObject({ kind: 'unauthorized', permanent: true });
    expect(asked).toBe(false);
  });
});
