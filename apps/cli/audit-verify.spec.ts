import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chainHash, type ChainLink, GENESIS_HASH } from '../../libs/domain/audit-chain';
import { type AuditCheckpoint, checkpointPayload } from '../../libs/domain/audit-checkpoint';
import { signingKeyId, verificationKey, VerificationKeys } from '../../libs/domain/signing-key-set';
import { run } from './cli';

// Offline `airlock audit verify --file …`: no server, real files, the shared verifier.

function chain(n: number, tamperAt?: number): ChainLink[] {
  const links: ChainLink[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const event = {
      seq: String(i),
      occurredAt: `2026-01-01T00:00:0${i % 10}.000Z`,
      actor: { kind: 'human', issuer: 'https://people', subject: 'erin' },
      action: 'promotion.requested',
      subjectType: 'promotion',
      subjectId: `p${i}`,
      details: { n: i, ...(i === tamperAt ? { rewritten: true } : {}) },
    };
    const hash = chainHash(event, prev);
    links.push({ ...event, prevHash: prev, hash });
    prev = hash;
  }
  return links;
}

const dir = mkdtempSync(join(tmpdir(), 'airlock-cli-audit-'));
const write = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const jsonl = (rows: unknown[]): string => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keyPath = write('key.pem', publicKey.export({ type: 'spki', format: 'pem' }).toString());
function checkpoint(link: ChainLink): AuditCheckpoint {
  const unsigned = {
    seq: link.seq,
    hash: link.hash,
    issuedAt: '2026-01-02T00:00:00.000Z',
    keyId: signingKeyId(publicKey),
  };
  return {
    ...unsigned,
    signature: sign('sha256', checkpointPayload(unsigned), privateKey).toString('base64'),
  };
}

async function verify(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run({
    argv: ['audit', 'verify', ...args],
    env: {},
    stdout: { write: (s: string | Uint8Array) => (stdout += String(s)) },
    stderr: { write: (s: string | Uint8Array) => (stderr += String(s)) },
    fetch: () => Promise.reject(new Error('offline verification must not call the server')),
  });
  return { code, stdout, stderr };
}

describe('airlock audit verify --file (offline)', () => {
  const good = chain(5);
  const exportPath = write('export.jsonl', jsonl(good));
  const checkpointsPath = write('checkpoints.jsonl', jsonl([checkpoint(good[2]), checkpoint(good[4])]));

  it('exits 0 for an intact chain and matching checkpoints, without a token or server', async () => {
    const r = await verify(['--file', exportPath, '--checkpoints', checkpointsPath, '--public-key', keyPath]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('OK');
    expect(r.stdout).toContain(`seq 5 hash ${good[4].hash}`);
    expect(r.stdout).toContain('2 matched');
  });

  it('exits 6 naming the seq of an edited line', async () => {
    const edited = good.map((l) => (l.seq === '3' ? { ...l, details: { n: 999 } } : l));
    const r = await verify(['--file', write('edited.jsonl', jsonl(edited)), '--json']);
    expect(r.code).toBe(6);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      checked: 2,
      firstBrokenLink: { seq: '3', problem: 'hash_mismatch' },
    });
  });

  it('exits 6 for history rewritten and re-chained, caught by a signed checkpoint', async () => {
    const rewritten = write('rewritten.jsonl', jsonl(chain(5, 2)));
    const r = await verify(['--file', rewritten, '--checkpoints', checkpointsPath, '--public-key', keyPath]);
    expect(r.code).toBe(6);
    expect(r.stdout).toContain('checkpoint problem: seq 3: checkpoint mismatch');
  });

  it('exits 6 for a line that is not a link, and for checkpoints past the end', async () => {
    const garbled = await verify(['--file', write('garbled.jsonl', `${JSON.stringify(good[0])}\n{oops\n`)]);
    expect(garbled.code).toBe(6);
    expect(garbled.stderr).toContain('line 2 of the export is not an audit chain link: not JSON');
    const truncated = write('truncated.jsonl', jsonl(good.slice(0, 3)));
    const r = await verify(['--file', truncated, '--checkpoints', checkpointsPath, '--public-key', keyPath]);
    expect(r.code).toBe(6);
    expect(r.stdout).toContain('checkpoint beyond head');
  });

  it('exits 6 for a checkpoint signed by another key', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const otherKey = write('other.pem', other.export({ type: 'spki', format: 'pem' }).toString());
    const r = await verify([
      '--file',
      exportPath,
      '--checkpoints',
      checkpointsPath,
      '--public-key',
      otherKey,
    ]);
    expect(r.code).toBe(6);
    // The checkpoint names the key that signed it, and that key is not the one given.
    expect(r.stdout).toContain('checkpoint key unknown');
    expect(r.stdout).toContain(`signed by key ${signingKeyId(publicKey)}, which is not in the key set`);
  });

  it('exits 1 when verification cannot run', async () => {
    expect((await verify(['--file', join(dir, 'missing.jsonl')])).stderr).toContain('ENOENT');
    expect((await verify(['--file', exportPath, '--checkpoints', checkpointsPath])).code).toBe(1);
    const notKey = write('not-a-key.pem', 'hello');
    const r = await verify(['--file', exportPath, '--checkpoints', checkpointsPath, '--public-key', notKey]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not a PEM public key');
  });

  it('accepts the checkpoints route response as the checkpoints file', async () => {
    const whole = write('whole.json', JSON.stringify({ publicKey: 'ignored', items: [checkpoint(good[4])] }));
    const r = await verify(['--file', exportPath, '--checkpoints', whole, '--public-key', keyPath]);
    expect(r.code).toBe(0);
  });
});

describe('airlock audit verify --file --keys (a key set after a rotation)', () => {
  const good = chain(5);
  const exportPath = write('rotated-export.jsonl', jsonl(good));
  const previous = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  /** Signed by `by` at `issuedAt`, naming `by`'s key id. */
  const signed = (link: ChainLink, by: typeof previous, issuedAt: string): AuditCheckpoint => {
    const unsigned = { seq: link.seq, hash: link.hash, issuedAt, keyId: signingKeyId(by.publicKey) };
    return {
      ...unsigned,
      signature: sign('sha256', checkpointPayload(unsigned), by.privateKey).toString('base64'),
    };
  };
  // The previous key signed until 2026-02-01, the current one (privateKey/publicKey above) since.
  const keySet = VerificationKeys.of([
    verificationKey(publicKey, { current: true }),
    verificationKey(previous.publicKey, { notAfter: new Date('2026-02-01T00:00:00Z') }),
  ]);
  const keysPath = write('keys.json', JSON.stringify(keySet.published()));
  const current = { privateKey, publicKey };

  it('exits 0 when checkpoints of the previous and the current key match', async () => {
    const cps = write(
      'rotated.jsonl',
      jsonl([
        signed(good[1], previous, '2026-01-15T00:00:00.000Z'),
        signed(good[4], current, '2026-03-01T00:00:00.000Z'),
      ]),
    );
    const r = await verify(['--file', exportPath, '--checkpoints', cps, '--keys', keysPath]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/checkpoints\s+2 matched/);
  });

  it('exits 6 naming the key of a checkpoint signed by a key not in the set', async () => {
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const cps = write('stranger.jsonl', jsonl([signed(good[2], stranger, '2026-03-01T00:00:00.000Z')]));
    const r = await verify(['--file', exportPath, '--checkpoints', cps, '--keys', keysPath, '--json']);
    expect(r.code).toBe(6);
    expect(JSON.parse(r.stdout).firstCheckpointMismatch).toEqual({
      seq: '3',
      problem: 'checkpoint_key_unknown',
      keyId: signingKeyId(stranger.publicKey),
    });
  });

  it("exits 6 for a previous key's checkpoint dated after its period", async () => {
    const cps = write('late.jsonl', jsonl([signed(good[2], previous, '2026-02-02T00:00:00.000Z')]));
    const r = await verify(['--file', exportPath, '--checkpoints', cps, '--keys', keysPath]);
    expect(r.code).toBe(6);
    expect(r.stdout).toContain('checkpoint problem: seq 3: checkpoint key not valid');
    expect(r.stdout).toContain(signingKeyId(previous.publicKey));
  });

  it('counts a mismatching checkpoint as not matched (no "1 matched" beside the mismatch)', async () => {
    const cps = write('one.jsonl', jsonl([signed(good[2], current, '2026-03-01T00:00:00.000Z')]));
    const r = await verify([
      '--file',
      write('rechained.jsonl', jsonl(chain(5, 2))),
      '--checkpoints',
      cps,
      '--keys',
      keysPath,
    ]);
    expect(r.code).toBe(6);
    expect(r.stdout).toMatch(/checkpoints\s+0 of 1 matched/);
    expect(r.stdout).toContain('checkpoint problem: seq 3: checkpoint mismatch');
  });

  it('exits 1 on a key set file that is not one, or with both --keys and --public-key', async () => {
    const bad = await verify([
      '--file',
      exportPath,
      '--checkpoints',
      keysPath,
      '--keys',
      write('bad-keys.json', '[]'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is not a key set');
    const both = await verify([
      '--file',
      exportPath,
      '--checkpoints',
      keysPath,
      '--keys',
      keysPath,
      '--public-key',
      keyPath,
    ]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('give --keys or --public-key, not both');
  });
});

describe('airlock audit verify --file (gzip and partial exports)', () => {
  const good = chain(5);
  const checkpointsPath = write(
    'checkpoints-partial.jsonl',
    jsonl([checkpoint(good[2]), checkpoint(good[4])]),
  );

  it('reads a gzip export as it reads a plain one', async () => {
    const gz = join(dir, 'export.jsonl.gz');
    writeFileSync(gz, gzipSync(jsonl(good)));
    const r = await verify([
      '--file',
      gz,
      '--checkpoints',
      checkpointsPath,
      '--public-key',
      keyPath,
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, checked: 5, head: { seq: '5' } });
  });

  it('anchors an export that starts at a checkpoint to that checkpoint', async () => {
    const partial = write('partial.jsonl', jsonl(good.slice(2)));
    const r = await verify([
      '--file',
      partial,
      '--checkpoints',
      checkpointsPath,
      '--public-key',
      keyPath,
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, checked: 2, head: { seq: '5' } });

    // A rewritten anchor link no longer carries the checkpoint's hash.
    const forged = good.slice(2).map((l) => (l.seq === '3' ? { ...l, details: { n: 1 } } : l));
    const bad = await verify([
      '--file',
      write('forged.jsonl', jsonl(forged)),
      '--checkpoints',
      checkpointsPath,
      '--public-key',
      keyPath,
      '--json',
    ]);
    expect(bad.code).toBe(6);
    expect(JSON.parse(bad.stdout)).toMatchObject({ firstBrokenLink: { seq: '3', problem: 'hash_mismatch' } });
  });

  it('reports a partial export with no checkpoint at its start as a gap at seq 1', async () => {
    const r = await verify(['--file', write('unanchored.jsonl', jsonl(good.slice(1))), '--json']);
    expect(r.code).toBe(6);
    expect(JSON.parse(r.stdout)).toMatchObject({
      firstBrokenLink: { seq: '1', problem: 'sequence_gap', found: '2' },
    });
  });
});
