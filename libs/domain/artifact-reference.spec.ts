import { formatArtifactReference, parseArtifactReference } from './artifact-reference';
import { DomainError } from './errors';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseArtifactReference', () => {
  it.each([
    [`registry.example.com/app@${D}`, 'registry.example.com', 'app'],
    [`registry.example.com/team/app@${D}`, 'registry.example.com', 'team/app'],
    [`127.0.0.1:5000/a/b/c@${D}`, '127.0.0.1:5000', 'a/b/c'],
    [`localhost/app@${D}`, 'localhost', 'app'],
    [`reg.io/my-app_x.y__z@${D}`, 'reg.io', 'my-app_x.y__z'],
  ])('parses %s', (input, registry, repository) => {
    const ref = parseArtifactReference(input);
    expect(ref).toEqual({ registry, repository, digest: D });
    expect(formatArtifactReference(ref)).toBe(input);
  });

  it.each([
    ['a tag instead of a digest', 'registry.example.com/app:latest'],
    ['a short digest', 'registry.example.com/app@sha256:abc'],
    ['an uppercase digest', `registry.example.com/app@sha256:${'A'.repeat(64)}`],
    ['another algorithm', `registry.example.com/app@sha512:${'a'.repeat(64)}`],
    ['no registry', `app@${D}`],
    ['a registry without a dot or port', `docker/app@${D}`],
    ['uppercase repository', `registry.example.com/App@${D}`],
    ['path traversal', `registry.example.com/../app@${D}`],
    ['a scheme', `https://registry.example.com/app@${D}`],
    ['an empty component', `registry.example.com/team//app@${D}`],
    ['a port out of range', `registry.example.com:70000/app@${D}`],
    ['whitespace', `registry.example.com/app @${D}`],
    ['an overlong reference', `registry.example.com/${'a'.repeat(600)}@${D}`],
    ['a trailing digest suffix', `registry.example.com/app@${D}x`],
  ])('refuses %s', (_why, input) => {
    expect(() => parseArtifactReference(input)).toThrow(DomainError);
  });
});
