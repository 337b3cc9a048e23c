import { createWriteStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type AuditCheckpoint } from '../../../libs/domain/audit-checkpoint';
import { type AuditVerification, verifyAuditChain } from '../../../libs/domain/audit-verification';
import { stringOption, UsageError } from '../args';
import { type VerificationKeys } from '../../../libs/domain/signing-key-set';
import { ExportLineError, openExport, readCheckpoints, readVerificationKeys } from '../audit-files';
import { type CommandContext, type CommandSpec } from '../command';
import { ExitCode } from '../exit-codes';
import { formatVerification } from '../format';
import { type PublishedKeySetView as KeySetResponse } from '../api-types';

function report(ctx: CommandContext, v: AuditVerification, source: string): ExitCode {
  if (ctx.json) ctx.out.json(v);
  else ctx.out.lines(formatVerification(v, source));
  return v.ok ? ExitCode.Ok : ExitCode.AuditBroken;
}

async function verifyOffline(
  ctx: CommandContext,
  file: string,
  checkpointsFile: string | undefined,
  keysFile: string | undefined,
  keyFile: string | undefined,
): Promise<ExitCode> {
  const keyGiven = keysFile !== undefined || keyFile !== undefined;
  if (checkpointsFile !== undefined && !keyGiven) {
    throw new UsageError('--checkpoints needs --keys (from `airlock keys`) or --public-key');
  }
  if (keyGiven && checkpointsFile === undefined) {
    throw new UsageError('--keys and --public-key are only used with --checkpoints');
  }
  let checkpoints: AuditCheckpoint[] = [];
  let keys: VerificationKeys | undefined;
  if (checkpointsFile !== undefined) {
    keys = await readVerificationKeys(keysFile, keyFile);
    checkpoints = await readCheckpoints(checkpointsFile);
  }
  const links = await openExport(file);
  let result: AuditVerification;
  try {
    result = await verifyAuditChain(links, checkpoints, keys);
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
  usage: '[--file export.jsonl [--checkpoints checkpoints.jsonl --keys keys.json | --public-key key.pem]]',
  positionals: [],
  options: {
    file: { type: 'string' },
    checkpoints: { type: 'string' },
    keys: { type: 'string' },
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
    [
      '--keys <keys.json>',
      "Airlock's key set (from `airlock keys`): each checkpoint is checked with the key it names",
    ],
    ['--public-key <key.pem>', 'one key instead of the set (checkpoints signed by it only)'],
  ],
  details: [
    'Online, the server walks its chain; offline, the export is streamed line by line and checked',
    'with the same code. Exit 0 when everything holds, 6 when a link or checkpoint does not (the',
    'first one is named), 1 when verification could not run.',
    'Fetch the checkpoints before the export: a checkpoint newer than the export looks like',
    'events removed from the end of the chain.',
    'A checkpoint counts when the key its keyId names is in the key set, was valid at its issuedAt',
    '(keys rotated out keep verifying what they signed before), and verifies its signature. Keep',
    'the key set somewhere the server cannot change it.',
  ],
  async run(ctx, { values }) {
    const file = stringOption(values, 'file');
    const checkpoints = stringOption(values, 'checkpoints');
    const keys = stringOption(values, 'keys');
    const key = stringOption(values, 'public-key');
    if (file !== undefined) return verifyOffline(ctx, file, checkpoints, keys, key);
    if (checkpoints !== undefined || keys !== undefined || key !== undefined) {
      throw new UsageError('--checkpoints, --keys and --public-key are for offline verification with --file');
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

/** What `GET /v1/keys` returns (libs/domain's PublishedKeySet). */

export const keys: CommandSpec = {
  name: 'keys',
  summary: "download Airlock's key set (the JSON of GET /v1/keys: current and previous signing keys)",
  usage: '[--out keys.json]',
  positionals: [],
  options: { out: { type: 'string' } },
  optionHelp: [['--out <file>', 'write the key set (JSON) to a file, for --keys of the verifiers']],
  details: [
    'Needs no token. `airlock audit verify --keys` and `airlock verify-attestation --keys` check',
    "each signature with the key it names, within that key's period. Keep a copy somewhere the",
    'server cannot change it: a key set fetched together with what it verifies only proves what the',
    'server says today.',
  ],
  async run(ctx, { values }) {
    const res = await ctx.publicApi().get<KeySetResponse>('/v1/keys');
    const out = stringOption(values, 'out');
    if (out !== undefined) {
      const text = `${JSON.stringify(res, null, 2)}\n`;
      await writeAtomically(out, async (dest) => {
        await pipeline(Readable.from([text]), dest);
      });
      ctx.out.note(`wrote ${res.keys.length} key${res.keys.length === 1 ? '' : 's'} to ${out}`);
    } else if (ctx.json) {
      ctx.out.json(res);
    } else {
      ctx.out.lines(
        res.keys.map(
          (k) =>
            `${k.keyId}  ${k.current ? 'current ' : 'previous'}  ${k.notBefore ?? '-'} .. ${k.notAfter ?? '-'}`,
        ),
      );
    }
    return ExitCode.Ok;
  },
};
