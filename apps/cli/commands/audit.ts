import { createWriteStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type AuditCheckpoint } from '../../../libs/domain/audit-checkpoint';
import { type AuditVerification, verifyAuditChain } from '../../../libs/domain/audit-verification';
import { stringOption, UsageError } from '../args';
import { ExportLineError, openExport, readCheckpoints, readPublicKey } from '../audit-files';
import { type CommandContext, type CommandSpec } from '../command';
import { ExitCode } from '../exit-codes';
import { formatVerification } from '../format';

function report(ctx: CommandContext, v: AuditVerification, source: string): ExitCode {
  if (ctx.json) ctx.out.json(v);
  else ctx.out.lines(formatVerification(v, source));
  return v.ok ? ExitCode.Ok : ExitCode.AuditBroken;
}

async function verifyOffline(
  ctx: CommandContext,
  file: string,
  checkpointsFile: string | undefined,
  keyFile: string | undefined,
): Promise<ExitCode> {
  if (checkpointsFile !== undefined && keyFile === undefined) {
    throw new UsageError('--checkpoints needs --public-key (the key that signed them)');
  }
  if (keyFile !== undefined && checkpointsFile === undefined) {
    throw new UsageError('--public-key is only used with --checkpoints');
  }
  let checkpoints: AuditCheckpoint[] = [];
  let publicKey: string | undefined;
  if (checkpointsFile !== undefined && keyFile !== undefined) {
    checkpoints = await readCheckpoints(checkpointsFile);
    publicKey = await readPublicKey(keyFile);
  }
  const links = await openExport(file);
  let result: AuditVerification;
  try {
    result = await verifyAuditChain(links, checkpoints, publicKey);
  } catch (e) {
    if (!(e instanceof ExportLineError)) throw e;
    if (ctx.json) ctx.out.json({ ok: false, malformedLine: e.line, error: e.message });
    ctx.out.note(`audit chain (${file}, offline): BROKEN`);
    ctx.out.note(`error: ${e.message}`);
    return ExitCode.AuditBroken;
  }
  return report(ctx, result, `${file}, offline`);
}

export const auditVerify: CommandSpec = {
  name: 'audit verify',
  summary: 'verify the audit hash chain and its signed checkpoints (online or offline)',
  usage: '[--file export.jsonl [--checkpoints checkpoints.jsonl --public-key key.pem]]',
  positionals: [],
  options: {
    file: { type: 'string' },
    checkpoints: { type: 'string' },
    'public-key': { type: 'string' },
  },
  optionHelp: [
    [
      '--file <export.jsonl>',
      'verify an export offline (from `airlock audit export`) instead of asking the server',
    ],
    [
      '--checkpoints <file>',
      'signed checkpoints to compare the chain with (from `airlock audit checkpoints`)',
    ],
    ['--public-key <key.pem>', 'the key the checkpoints are signed with; obtain it independently'],
  ],
  details: [
    'Online, the server walks its chain; offline, the export is streamed line by line and checked',
    'with the same code. Exit 0 when everything holds, 6 when a link or checkpoint does not (the',
    'first one is named), 1 when verification could not run.',
    'Fetch the checkpoints before the export: a checkpoint newer than the export looks like',
    'events removed from the end of the chain.',
  ],
  async run(ctx, { values }) {
    const file = stringOption(values, 'file');
    const checkpoints = stringOption(values, 'checkpoints');
    const key = stringOption(values, 'public-key');
    if (file !== undefined) return verifyOffline(ctx, file, checkpoints, key);
    if (checkpoints !== undefined || key !== undefined) {
      throw new UsageError('--checkpoints and --public-key are for offline verification with --file');
    }
    const v = await ctx.api().get<AuditVerification>('/v1/audit/verify');
    return report(ctx, v, ctx.api().server);
  },
};

/** Writes to `path` through `path.partial`, so an interrupted download never looks complete. */
async function writeAtomically(path: string, write: (dest: Writable) => Promise<void>): Promise<void> {
  const partial = `${path}.partial`;
  try {
    await write(createWriteStream(partial, { mode: 0o600 }));
    await rename(partial, path);
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  }
}

export const auditExport: CommandSpec = {
  name: 'audit export',
  summary: 'download the audit chain as JSON lines (for offline verification)',
  usage: '[--out export.jsonl]',
  positionals: [],
  options: { out: { type: 'string' } },
  optionHelp: [['--out <file>', 'write to a file (default: stdout)']],
  async run(ctx, { values }) {
    const out = stringOption(values, 'out');
    const body = await ctx.api().stream('/v1/audit/export');
    let lines = 0;
    const count = async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      for await (const chunk of source) {
        for (const byte of chunk) if (byte === 0x0a) lines += 1;
        yield chunk;
      }
    };
    const source = Readable.fromWeb(body);
    if (out === undefined) {
      // Raw bytes (a chunk may end inside a UTF-8 character), one chunk in flight at a time.
      const stdout = new Writable({
        write(chunk: Buffer, _enc, done) {
          ctx.out.stdout.write(chunk, done);
        },
      });
      await pipeline(source, count, stdout);
    } else {
      await writeAtomically(out, (dest) => pipeline(source, count, dest));
      ctx.out.note(`wrote ${lines} audit events to ${out}`);
    }
    return ExitCode.Ok;
  },
};

export const auditCheckpoints: CommandSpec = {
  name: 'audit checkpoints',
  summary: 'download the signed checkpoints (JSON lines) and the public key that signed them',
  usage: '[--out checkpoints.jsonl] [--public-key-out key.pem]',
  positionals: [],
  options: { out: { type: 'string' }, 'public-key-out': { type: 'string' } },
  optionHelp: [
    ['--out <file>', 'write the checkpoints as JSON lines to a file (default: stdout)'],
    ['--public-key-out <file>', 'write the signing public key (PEM) to a file'],
  ],
  details: [
    'For offline verification, keep the public key somewhere the server cannot change it: a key',
    'fetched together with the checkpoints only proves what the server says today.',
  ],
  async run(ctx, { values }) {
    const res = await ctx.api().get<{ publicKey: string; items: AuditCheckpoint[] }>('/v1/audit/checkpoints');
    const out = stringOption(values, 'out');
    const keyOut = stringOption(values, 'public-key-out');
    const jsonl = res.items.map((c) => `${JSON.stringify(c)}\n`).join('');
    if (keyOut !== undefined) await writeFile(keyOut, res.publicKey);
    if (out !== undefined) {
      await writeAtomically(out, async (dest) => {
        await pipeline(Readable.from([jsonl]), dest);
      });
      ctx.out.note(`wrote ${res.items.length} checkpoint${res.items.length === 1 ? '' : 's'} to ${out}`);
    } else if (ctx.json) {
      ctx.out.json(res);
    } else {
      ctx.out.stdout.write(jsonl);
    }
    return ExitCode.Ok;
  },
};
