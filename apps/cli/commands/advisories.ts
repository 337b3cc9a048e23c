import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { UsageError } from '../args';
import { type CommandSpec } from '../command';
import { ExitCode } from '../exit-codes';
import { type AdvisoryImportView } from '../api-types';

/** A zip archive starts with a local file header (or is an empty archive's end record). */
const isZip = (bytes: Uint8Array): boolean =>
  bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 0x03 || bytes[2] === 0x05);

export const advisoriesImport: CommandSpec = {
  name: 'advisories import',
  summary: 'import OSV advisories: a JSON document, a JSON array, or a zip such as osv.dev’s all.zip',
  usage: '<file>',
  positionals: ['file'],
  options: {},
  optionHelp: [],
  details: [
    'All or nothing: one invalid document refuses the whole file. Importing the same file again',
    'changes nothing and shows the first import. Needs the admin role.',
  ],
  async run(ctx, { positionals }) {
    const file = positionals[0];
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      throw new UsageError(`${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    const zip = isZip(bytes);
    const name = basename(file)
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .slice(0, 200);
    const res = await ctx.api().request<AdvisoryImportView>('POST', '/v1/advisories/imports', {
      raw: { bytes, contentType: zip ? 'application/zip' : 'application/json' },
      headers: zip && name ? { 'x-file-name': name } : {},
    });
    const v = res.body;
    if (ctx.json) ctx.out.json(v);
    else {
      ctx.out.lines([
        `${res.status === 201 ? 'imported' : 'already imported'}: import #${v.seq} (${v.id})`,
        `${v.documents} documents: ${v.added} added, ${v.updated} updated, ${v.unchanged} unchanged`,
      ]);
    }
    return ExitCode.Ok;
  },
};
