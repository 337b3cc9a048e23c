import { Failure } from '../domain/failure';
import {
  CopyCancelledError,
  fromWireError,
  fromWireResult,
  isChildMessage,
  toWireError,
  toWireRegistry,
  toWireResult,
  toWireSupplierError,
} from './process-protocol';
import { RegistryError } from './errors';

/** An error after crossing: through JSON, as Node's IPC channel carries it. */
const crossed = (error: unknown): Error => fromWireError(JSON.parse(JSON.stringify(toWireError(error))));

describe('copy protocol', () => {
  it('keeps a RegistryError’s kind, permanence and details across', () => {
    const error = crossed(
      new RegistryError('unavailable', 'PUT http://prod/v2/app/blobs/uploads/x failed (ECONNRESET)', {
        registry: 'prod.example.com',
        repository: 'prod/app',
        status: 503,
        registryCode: 'UNAVAILABLE',
      }),
    );
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({
      kind: 'unavailable',
      permanent: false,
      registry: 'prod.example.com',
      repository: 'prod/app',
      status: 503,
      registryCode: 'UNAVAILABLE',
    });
    const overridden = crossed(new RegistryError('unauthorized', 'refused', { permanent: false }));
    expect(overridden).toMatchObject({ kind: 'unauthorized', permanent: false });
  });

  it.each([
    ['a permanent Failure', Failure.permanent('the tag moved'), Failure, true],
    ['a cancellation', new CopyCancelledError('cancelled'), CopyCancelledError, false],
    ['anything else, as transient', new TypeError('x is undefined'), Failure, false],
  ])('rebuilds %s', (_name, error, type, permanent) => {
    const back = crossed(error);
    expect(back).toBeInstanceOf(type);
    expect(back).toMatchObject({ message: error.message, permanent });
  });

  it('sends a token supplier’s own error without its message, which may quote what it exchanged', () => {
    const wire = toWireSupplierError(
      Object.assign(new Error('client_assertion=eyJhbGci… rejected'), { code: 'E1' }),
    );
    expect(JSON.stringify(wire)).not.toContain('eyJ');
    const back = fromWireError(wire);
    expect(back).toMatchObject({ name: 'Error', message: '', code: 'E1' });
    expect(toWireSupplierError(new RegistryError('denied', 'no'))).toMatchObject({
      name: 'RegistryError',
      kind: 'denied',
    });
  });

  it('keeps a token supplier in the worker: the copy process gets a note to ask for tokens', () => {
    const supplier = async () => 'token';
    expect(toWireRegistry({ host: 'prod.example.com', credentials: { tokenSupplier: supplier } })).toEqual({
      host: 'prod.example.com',
      credentials: { askParent: true },
    });
    expect(toWireRegistry({ host: 'r.example.com', insecure: true })).toEqual({
      host: 'r.example.com',
      insecure: true,
    });
  });

  it('carries the manifest’s exact bytes', () => {
    const bytes = Buffer.from('{"schemaVersion":2,\n "layers": []}');
    const result = {
      manifest: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:abc', bytes },
      attestationLayers: [],
      stats: { manifests: 1, blobsCopied: 0, blobsMounted: 0, blobsPresent: 2, bytesCopied: 0 },
    };
    expect(fromWireResult(JSON.parse(JSON.stringify(toWireResult(result))))).toEqual(result);
  });

  it('drops messages of no known type', () => {
    expect(isChildMessage({ type: 'done', id: 1 })).toBe(true);
    for (const junk of [null, 'done', { type: 'copy' }, { kind: 'done' }, 42])
      expect(isChildMessage(junk)).toBe(false);
  });
});
