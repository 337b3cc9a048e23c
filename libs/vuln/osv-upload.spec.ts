import { zipFiles } from '../../test/support/osv';
import {
  DEFAULT_OSV_UPLOAD_LIMITS,
  jsonUploadDocuments,
  OsvUploadError,
  zipUploadDocuments,
} from './osv-upload';

const zip = zipFiles;

async function all(buffer: Buffer, limits = DEFAULT_OSV_UPLOAD_LIMITS) {
  const out = [];
  for await (const d of zipUploadDocuments(buffer, limits)) out.push(d);
  return out;
}

describe('advisory uploads', () => {
  it('reads the JSON files of an archive and skips the rest', async () => {
    const docs = await all(
      await zip({ 'a/GHSA-1.json': '{"id":"GHSA-1"}', 'README.md': '# no', 'b.json': '{"id":"B"}' }),
    );
    expect(docs).toEqual([
      { where: 'a/GHSA-1.json', doc: { id: 'GHSA-1' }, bytes: 15 },
      { where: 'b.json', doc: { id: 'B' }, bytes: 10 },
    ]);
  });

  it('refuses what is not a zip, a file that is not JSON, and files over the limits', async () => {
    await expect(all(Buffer.from('not a zip at all, just text'))).rejects.toThrow(OsvUploadError);
    await expect(all(await zip({ 'x.json': '{nope' }))).rejects.toThrow(/x.json is not JSON/);
    const big = await zip({ 'big.json': `{"pad":"${'0'.repeat(10_000_000)}"}` });
    expect(big.length).toBeLessThan(100_000); // a small archive that inflates a lot
    await expect(all(big, { ...DEFAULT_OSV_UPLOAD_LIMITS, maxDocumentBytes: 1_000_000 })).rejects.toThrow(
      /big.json is \d+ bytes/,
    );
    const many = await zip(Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`${i}.json`, '{}'])));
    await expect(all(many, { ...DEFAULT_OSV_UPLOAD_LIMITS, maxEntries: 4 })).rejects.toThrow(/5 entries/);
    const total = await zip({ '1.json': '{"a":"xxxxxxxxxx"}', '2.json': '{"a":"xxxxxxxxxx"}' });
    await expect(all(total, { ...DEFAULT_OSV_UPLOAD_LIMITS, maxTotalBytes: 30 })).rejects.toThrow(
      /over 30 bytes/,
    );
  });

  it('a truncated archive is refused', async () => {
    const z = await zip({ 'a.json': '{"id":"A"}', 'b.json': '{"id":"B"}' });
    await expect(all(z.subarray(0, z.length - 30))).rejects.toThrow(OsvUploadError);
  });

  it('JSON: one document or an array', () => {
    expect([...jsonUploadDocuments({ id: 'A' })]).toEqual([
      { where: 'the document', doc: { id: 'A' }, bytes: 0 },
    ]);
    expect([...jsonUploadDocuments([{ id: 'A' }, { id: 'B' }])].map((d) => d.where)).toEqual([
      'item 0',
      'item 1',
    ]);
  });
});
