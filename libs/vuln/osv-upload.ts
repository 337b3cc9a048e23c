// Reads an advisory upload: one OSV JSON document, a JSON array of them, or a zip archive of OSV
// JSON files as the OSV project publishes them (`<ecosystem>/all.zip`). The archive is read from
// memory, entry by entry, with limits on entries and sizes, so a zip bomb ends as a clear refusal.
import { type Entry, fromBuffer, type ZipFile } from 'yauzl';

export interface OsvUploadLimits {
  /** Entries in an archive (files and directories). */
  maxEntries: number;
  /** Uncompressed bytes of one JSON file. */
  maxDocumentBytes: number;
  /** Uncompressed bytes of the whole archive. */
  maxTotalBytes: number;
}

export const DEFAULT_OSV_UPLOAD_LIMITS: Readonly<OsvUploadLimits> = {
  maxEntries: 500_000,
  maxDocumentBytes: 16 * 1024 * 1024,
  maxTotalBytes: 4 * 1024 * 1024 * 1024,
};

/** The upload cannot be read; nothing from it is stored. */
export class OsvUploadError extends Error {}

export interface OsvUploadDocument {
  /** Where it came from, for messages: `entry 3` or the archive path. */
  where: string;
  doc: unknown;
  /** Its size as uploaded (0 when unknown: items of a JSON body, which is small). */
  bytes: number;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new OsvUploadError(`${where} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function* jsonUploadDocuments(body: unknown): Generator<OsvUploadDocument> {
  if (Array.isArray(body)) {
    for (const [i, doc] of body.entries()) yield { where: `item ${i}`, doc: doc as unknown, bytes: 0 };
  } else yield { where: 'the document', doc: body, bytes: 0 };
}

function open(buffer: Buffer): Promise<ZipFile> {
  return new Promise((resolve, reject) =>
    fromBuffer(buffer, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false }, (err, zip) =>
      err || !zip
        ? reject(new OsvUploadError(`not a zip archive: ${err?.message ?? 'unreadable'}`))
        : resolve(zip),
    ),
  );
}

function readEntry(zip: ZipFile, entry: Entry, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream)
        return reject(new OsvUploadError(`${entry.fileName}: ${err?.message ?? 'unreadable'}`));
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        // validateEntrySizes stops a lying header too; this bounds memory whatever the header says.
        if (size > maxBytes)
          stream.destroy(new OsvUploadError(`${entry.fileName} is over ${maxBytes} bytes`));
        else chunks.push(c);
      });
      stream.on('error', (e) =>
        reject(e instanceof OsvUploadError ? e : new OsvUploadError(`${entry.fileName}: ${e.message}`)),
      );
      stream.on('end', () => resolve(Buffer.concat(chunks)));
    });
  });
}

/** The JSON documents of a zip archive, one at a time; files not ending in `.json` are skipped. */
export async function* zipUploadDocuments(
  buffer: Buffer,
  limits: OsvUploadLimits = DEFAULT_OSV_UPLOAD_LIMITS,
): AsyncGenerator<OsvUploadDocument> {
  const zip = await open(buffer);
  try {
    if (zip.entryCount > limits.maxEntries)
      throw new OsvUploadError(
        `the archive has ${zip.entryCount} entries; at most ${limits.maxEntries} are read`,
      );
    let total = 0;
    for (;;) {
      const entry = await new Promise<Entry | null>((resolve, reject) => {
        const onEntry = (e: Entry) => {
          zip.off('end', onEnd);
          zip.off('error', onError);
          resolve(e);
        };
        const onEnd = () => {
          zip.off('entry', onEntry);
          zip.off('error', onError);
          resolve(null);
        };
        const onError = (e: Error) => {
          zip.off('entry', onEntry);
          zip.off('end', onEnd);
          reject(new OsvUploadError(`the archive is malformed: ${e.message}`));
        };
        zip.once('entry', onEntry);
        zip.once('end', onEnd);
        zip.once('error', onError);
        zip.readEntry();
      });
      if (!entry) return;
      if (entry.fileName.endsWith('/') || !entry.fileName.toLowerCase().endsWith('.json')) continue;
      if ((entry.generalPurposeBitFlag & 0x1) !== 0)
        throw new OsvUploadError(`${entry.fileName} is encrypted`);
      if (entry.uncompressedSize > limits.maxDocumentBytes)
        throw new OsvUploadError(
          `${entry.fileName} is ${entry.uncompressedSize} bytes; at most ${limits.maxDocumentBytes}`,
        );
      total += entry.uncompressedSize;
      if (total > limits.maxTotalBytes)
        throw new OsvUploadError(`the archive holds over ${limits.maxTotalBytes} bytes of JSON`);
      const bytes = await readEntry(zip, entry, limits.maxDocumentBytes);
      yield {
        where: entry.fileName,
        doc: parseJson(bytes.toString('utf8'), entry.fileName),
        bytes: bytes.length,
      };
    }
  } finally {
    zip.close();
  }
}
