import { createWriteStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type AuditCheckpoint } from '../../../libs/domain/audit-checkpoint';
import { type AuditVerification, verifyAuditChain } from '../../../libs/domain/audit-verification';
import { parseDuration, stringOption, UsageError } from '../args';
import { type VerificationKeys } from '../../../libs/domain/signing-key-set';
import {
  ExportLineError,
  openExport,
  peekFirst,
  readCheckpoints,
  readVerificationKeys,
} from '../audit-files';
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
  let result: AuditVerification;
  try {
    // An export that starts past the genesis (`audit export --checkpoint`) is anchored to the
    // signed checkpoint at its first link; without one it reports the gap at seq 1.
    const { first, pages } = await peekFirst(await openExport(file));
    const anchor = first && first.seq !== '1' ? checkpoints.find((c) => c.seq === first.seq) : undefined;
    result = await verifyAuditChain(pages, checkpoints, keys, { anchor });
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
  usage:
    '[--full] [--timeout 10m] [--poll-interval 1s] | --file export.jsonl[.gz] [--checkpoints checkpoints.jsonl --keys keys.json | --public-key key.pem]',
  positionals: [],
  options: {
    full: { type: 'boolean' },
    timeout: { type: 'string' },
    'poll-interval': { type: 'string' },
    file: { type: 'string' },
    checkpoints: { type: 'string' },
    keys: { type: 'string' },
    'public-key': { type: 'string' },
  },
  optionHelp: [
    ['--full', 'online: walk from the genesis instead of from the newest proven checkpoint'],
    ['--timeout <duration>', 'online: give up (and cancel the walk) after this long (default 10m)'],
    ['--poll-interval <duration>', 'online: how often to ask for progress (default 1s)'],
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
    'Online, the server walks its chain (in its worker when long) from the newest checkpoint an',
    'earlier verification proved, or from the genesis with --full; the command polls until done.',
    'Offline, the export (plain or gzip) is streamed line by line and checked with the same code;',
    'an export that starts at a checkpoint (`audit export --checkpoint`) is anchored to it. Exit 0 when everything holds, 6 when a link or checkpoint does not (the',
    'first one is named), 5 when --timeout ran out, 1 when verification could not run.',
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
    if (file !== undefined) {
      if (
        values.full !== undefined ||
        values.timeout !== undefined ||
        values['poll-interval'] !== undefined
      ) {
        throw new UsageError('--full, --timeout and --poll-interval are for online verification');
      }
      return verifyOffline(ctx, file, checkpoints, keys, key);
    }
    if (checkpoints !== undefined || keys !== undefined || key !== undefined) {
      throw new UsageError('--checkpoints, --keys and --public-key are for offline verification with --file');
    }
    return verifyOnline(ctx, {
      full: values.full === true,
      timeoutMs: parseDuration(stringOption(values, 'timeout') ?? '10m', 'timeout'),
      pollMs: parseDuration(stringOption(values, 'poll-interval') ?? '1s', 'poll-interval'),
    });
  },
};

/** What the verification routes answer (AuditVerificationView in libs/core). */
interface VerificationResource {
  id: string;
  status: 'queued' | 'running' | 'completed' | 'cancelled' | 'errored';
  start: 'genesis' | 'checkpoint';
  fromSeq: string;
  toSeq: string;
  pendingAtStart: number;
  progress: { checked: number; total: number };
  report: AuditVerification | null;
  error: string | null;
  durationMs: number | null;
}

const FINISHED = new Set(['completed', 'cancelled', 'errored']);

/**
 * Starts a verification on the server and polls it: each request is short, so no request waits
 * for the walk, and the whole wait is bounded by --timeout (the walk is cancelled when it runs out).
 */
async function verifyOnline(
  ctx: CommandContext,
  o: { full: boolean; timeoutMs: number; pollMs: number },
): Promise<ExitCode> {
  const api = ctx.api();
  const deadline = Date.now() + o.timeoutMs;
  const started = await api.post<VerificationResource>('/v1/audit/verifications', {
    start: o.full ? 'genesis' : 'checkpoint',
  });
  let v = started.body;
  while (!FINISHED.has(v.status)) {
    if (Date.now() >= deadline) {
      await api.post(`/v1/audit/verifications/${v.id}/cancel`).catch(() => undefined);
      ctx.out.note(
        `gave up after --timeout ${Math.round(o.timeoutMs / 1000)}s at ${v.progress.checked} of ${v.progress.total} links; the walk was cancelled`,
      );
      return ExitCode.Timeout;
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(o.pollMs, Math.max(0, deadline - Date.now()))),
    );
    v = await api.get<VerificationResource>(`/v1/audit/verifications/${v.id}`);
  }
  if (v.status !== 'completed' || !v.report) {
    ctx.out.note(`verification ${v.id} ${v.status}: ${v.error ?? 'no result'}`);
    return ExitCode.Error;
  }
  const range =
    v.start === 'checkpoint'
      ? `links ${BigInt(v.fromSeq) + 1n}..${v.toSeq} after proven checkpoint ${v.fromSeq}`
      : `links 1..${v.toSeq} from the genesis`;
  if (ctx.json) {
    ctx.out.json({
      ...v.report,
      verification: v.id,
      start: v.start,
      fromSeq: v.fromSeq,
      pending: v.pendingAtStart,
    });
    return v.report.ok ? ExitCode.Ok : ExitCode.AuditBroken;
  }
  ctx.out.lines([
    ...formatVerification(v.report, api.server),
    `  walked: ${range} in ${v.durationMs ?? 0} ms`,
    `  pending: ${v.pendingAtStart} event${v.pendingAtStart === 1 ? '' : 's'} not yet sealed (not covered)`,
  ]);
  return v.report.ok ? ExitCode.Ok : ExitCode.AuditBroken;
}

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

/** Counts newlines with the native search: stream speed, not a loop over every byte. */
function newlines(chunk: Buffer): number {
  let n = 0;
  for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) n += 1;
  return n;
}

export const auditExport: CommandSpec = {
  name: 'audit export',
  summary: 'download the audit chain as JSON lines (for offline verification)',
  usage: '[--out export.jsonl] [--from-seq N | --checkpoint SEQ] [--gzip]',
  positionals: [],
  options: {
    out: { type: 'string' },
    'from-seq': { type: 'string' },
    checkpoint: { type: 'string' },
    gzip: { type: 'boolean' },
  },
  optionHelp: [
    ['--out <file>', 'write to a file (default: stdout)'],
    ['--from-seq <n>', 'start at this sequence number instead of the genesis'],
    [
      '--checkpoint <seq>',
      "start at a signed checkpoint's link: `audit verify --file` anchors the export to it",
    ],
    ['--gzip', 'ask the server for a gzip-compressed export (written as it comes)'],
  ],
  details: [
    'The export covers the sealed chain up to its head when asked; events still pending are not in',
    'it (the server says how many in the x-audit-pending header).',
  ],
  async run(ctx, { values }) {
    const out = stringOption(values, 'out');
    const fromSeq = stringOption(values, 'from-seq');
    const checkpoint = stringOption(values, 'checkpoint');
    const gzip = values.gzip === true;
    if (fromSeq !== undefined && checkpoint !== undefined) {
      throw new UsageError('give --from-seq or --checkpoint, not both');
    }
    for (const [name, v] of [
      ['from-seq', fromSeq],
      ['checkpoint', checkpoint],
    ] as const) {
      if (v !== undefined && !/^[1-9]\d{0,18}$/.test(v))
        throw new UsageError(`--${name}: not a sequence number`);
    }
    const query = new URLSearchParams();
    if (fromSeq !== undefined) query.set('fromSeq', fromSeq);
    if (checkpoint !== undefined) query.set('checkpoint', checkpoint);
    if (gzip) query.set('compress', 'gzip');
    const path = `/v1/audit/export${query.size ? `?${query.toString()}` : ''}`;
    const body = await ctx.api().stream(path);
    let lines = 0;
    let bytes = 0;
    const count = async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      for await (const chunk of source) {
        bytes += chunk.length;
        if (!gzip) lines += newlines(chunk);
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
      ctx.out.note(
        gzip
          ? `wrote ${bytes} bytes (gzip) of audit events to ${out}`
          : `wrote ${lines} audit events to ${out}`,
      );
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
