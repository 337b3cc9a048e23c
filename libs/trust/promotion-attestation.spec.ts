import {
  appendAttestationLayers,
  cosignAttestationLayers,
  DSSE_ENVELOPE_MEDIA_TYPE,
  PROMOTION_ID_ANNOTATION,
  PROMOTION_PREDICATE,
} from './promotion-attestation';

describe('appendAttestationLayers', () => {
  const layer = (digest: string, annotations: Record<string, string> = {}) => ({
    mediaType: DSSE_ENVELOPE_MEDIA_TYPE,
    digest,
    size: 1,
    annotations,
  });
  const mine = (promotionId: string) =>
    cosignAttestationLayers(
      [{ predicateType: PROMOTION_PREDICATE, envelope: { payloadType: 'x', payload: '', signatures: [] } }],
      promotionId,
    );

  it("keeps earlier promotions' layers and appends this one's, as cosign does", () => {
    const earlier = layer('sha256:1', {
      predicateType: PROMOTION_PREDICATE,
      [PROMOTION_ID_ANNOTATION]: 'p1',
    });
    const out = appendAttestationLayers([earlier], [], mine('p2'), 'p2');
    expect(out).toHaveLength(2);
    expect(out[0]).toBe(earlier);
    expect(out[1].annotations?.[PROMOTION_ID_ANNOTATION]).toBe('p2');
  });

  it("replaces what the same promotion wrote on an earlier attempt, and carries the source's once", () => {
    const retried = layer('sha256:1', {
      predicateType: PROMOTION_PREDICATE,
      [PROMOTION_ID_ANNOTATION]: 'p1',
    });
    const provenance = layer('sha256:2', { predicateType: 'https://slsa.dev/provenance/v1' });
    const foreignAirlock = layer('sha256:3', { predicateType: PROMOTION_PREDICATE });
    const out = appendAttestationLayers(
      [retried, provenance],
      [provenance, foreignAirlock],
      mine('p1'),
      'p1',
    );
    expect(out.map((l) => ('digest' in l ? l.digest : 'new'))).toEqual(['sha256:2', 'new']);
  });
});
