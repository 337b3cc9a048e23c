// The small OSV set shipped with the tests (test/fixtures/osv: one advisory per ecosystem, plus a
// low-rated, an unrated and a withdrawn one), zipped as osv.dev publishes its archives.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZipFile } from 'yazl';

export const OSV_FIXTURES = join(__dirname, '..', 'fixtures', 'osv');

export function osvFixtures(): Record<string, unknown>[] {
  return readdirSync(OSV_FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(OSV_FIXTURES, f), 'utf8')) as Record<string, unknown>);
}

/** A zip archive of these files (stored compressed), built in memory. */
export function zipFiles(files: Record<string, string | Buffer>, compress = true): Promise<Buffer> {
  const z = new ZipFile();
  for (const [name, content] of Object.entries(files)) z.addBuffer(Buffer.from(content), name, { compress });
  z.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    z.outputStream.on('error', reject);
  });
}

/** A zip of OSV documents, one `<id>.json` each. */
export function osvZip(docs: ReadonlyArray<Record<string, unknown>>): Promise<Buffer> {
  return zipFiles(Object.fromEntries(docs.map((d) => [`${String(d.id)}.json`, JSON.stringify(d)])));
}
