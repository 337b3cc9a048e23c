// The literal matcher's inner loop (literal-matcher.ts) as a WebAssembly function. Every byte of
// every scanned file goes through this loop, and in JavaScript it ran at about 380 MB per CPU
// second on the provider rules' 350-odd literals, three quarters of the whole scan; compiled to
// WebAssembly (no bounds checks, no deoptimisation) the same steps run two to three times as fast.
// The module is a few hundred bytes, written out here instruction by instruction (no toolchain):
//
//   scan(len, state) -> state
//     reads input[0, len) from `state`; each step is
//       state = table[state + classOf[byte]]
//     (both stored as byte offsets into the module's memory); a state at or past `firstAccepting`
//     ends a literal, and (position, state) goes to a list of hits. Long inputs are read by two
//     walks at once, one per half (the second starts `longest - 1` bytes early, so it is in the
//     right state by the half, and keeps hits from the half on): two independent chains of
//     table look-ups keep the CPU busy while each waits for its load. The first walk's hits go
//     to `hits1`, the second's to `hits2`; their counts are the globals `count1` and `count2`,
//     and the returned state is the one after the last byte.
//
// Each list can hold one hit per byte of its walk, so it never overflows.

/** Where things are in the module's memory, in bytes. */
export interface AutomatonLayout {
  /** 256 i32: a byte's class times 4. */
  classOf: number;
  /** i32 per (state, class): the next state's row, as a byte offset from `table`. */
  table: number;
  input: number;
  /** Largest `len` one call takes. */
  chunk: number;
  hits1: number;
  hits2: number;
  /** Bytes of memory needed. */
  size: number;
}

export interface AutomatonExports {
  memory: { buffer: ArrayBuffer };
  scan(len: number, state: number): number;
  count1: { value: number };
  count2: { value: number };
}

/** The part of the WebAssembly API used here (the project's TypeScript libraries do not declare it). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

const PAGE = 65536;

/** Bytes per hit: position, state. */
export const HIT_BYTES = 8;

export function automatonLayout(tableEntries: number, chunk: number): AutomatonLayout {
  const classOf = 0;
  const table = 256 * 4;
  const input = table + tableEntries * 4;
  // Each walk keeps hits for at most half the chunk, plus the odd byte.
  const hitsBytes = ((chunk >> 1) + 1) * HIT_BYTES;
  const hits1 = align(input + chunk, 8);
  const hits2 = hits1 + hitsBytes;
  return { classOf, table, input, chunk, hits1, hits2, size: hits2 + hitsBytes };
}

const align = (n: number, to: number) => Math.ceil(n / to) * to;

// --- Encoding --------------------------------------------------------------------------------

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const name = (s: string) => vec([...Buffer.from(s, 'ascii')].map((b) => [b]));

const I32 = 0x7f;
const VOID = 0x40;
const op = {
  block: [0x02, VOID],
  loop: [0x03, VOID],
  if: [0x04, VOID],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  get: (l: number) => [0x20, l],
  set: (l: number) => [0x21, l],
  setGlobal: (g: number) => [0x24, g],
  const: (v: number) => [0x41, ...sleb(v)],
  load: (offset: number) => [0x28, 2, ...uleb(offset)],
  load8: (offset: number) => [0x2d, 0, ...uleb(offset)],
  store: (offset: number) => [0x36, 2, ...uleb(offset)],
  add: [0x6a],
  shl: [0x74],
  shrU: [0x76],
  sub: [0x6b],
  geU: [0x4f],
  ltU: [0x49],
  and: [0x71],
  return: [0x0f],
};

// Locals of scan: the two parameters, then the rest.
const LEN = 0;
const S1 = 1;
const I = 2;
const S2 = 3;
const J = 4;
const HALF = 5;
const N1 = 6;
const N2 = 7;
const EXTRA_LOCALS = 6;

/**
 * The module for one automaton. `firstAccepting` is a byte offset like the states; `longest` the
 * longest literal's length.
 */
export function automatonModule(
  layout: AutomatonLayout,
  firstAccepting: number,
  longest: number,
): Uint8Array {
  /** state = table[state + classOf[input[pos]]] */
  const step = (state: number, pos: number) => [
    ...op.get(state),
    ...op.get(pos),
    ...op.load8(layout.input),
    ...op.const(2),
    ...op.shl,
    ...op.load(layout.classOf),
    ...op.add,
    ...op.load(layout.table),
    ...op.set(state),
  ];
  /** When `state` accepts (and `also`, if given, leaves 1), hits[n++] = (pos, state). */
  const record = (state: number, pos: number, n: number, hits: number, also: number[] = []) => [
    ...op.get(state),
    ...op.const(firstAccepting),
    ...op.geU,
    ...also,
    ...op.if,
    ...op.get(n),
    ...op.const(3),
    ...op.shl,
    ...op.get(pos),
    ...op.store(hits),
    ...op.get(n),
    ...op.const(3),
    ...op.shl,
    ...op.get(state),
    ...op.store(hits + 4),
    ...op.get(n),
    ...op.const(1),
    ...op.add,
    ...op.set(n),
    ...op.end,
  ];
  const increment = (l: number) => [...op.get(l), ...op.const(1), ...op.add, ...op.set(l)];
  /** while (pos < end) { body; pos++ } */
  const whileBelow = (pos: number, end: number[], body: number[]) => [
    ...op.block,
    ...op.loop,
    ...op.get(pos),
    ...end,
    ...op.geU,
    ...op.brIf(1),
    ...body,
    ...increment(pos),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
  const finish = (state: number) => [
    ...op.get(N1),
    ...op.setGlobal(0),
    ...op.get(N2),
    ...op.setGlobal(1),
    ...op.get(state),
  ];
  const warmUp = longest - 1;
  const code = [
    // Short input: one walk.
    ...op.get(LEN),
    ...op.const(2 * longest + 16),
    ...op.ltU,
    ...op.if,
    ...whileBelow(I, op.get(LEN), [...step(S1, I), ...record(S1, I, N1, layout.hits1)]),
    ...finish(S1),
    ...op.return,
    ...op.end,
    // Two walks: the second over [half - warmUp, len), keeping hits from `half` on.
    ...op.get(LEN),
    ...op.const(1),
    ...op.shrU,
    ...op.set(HALF),
    ...whileBelow(I, op.get(HALF), [
      ...step(S1, I),
      ...record(S1, I, N1, layout.hits1),
      ...op.get(I),
      ...op.get(HALF),
      ...op.add,
      ...op.const(warmUp),
      ...op.sub,
      ...op.set(J),
      ...step(S2, J),
      ...record(S2, J, N2, layout.hits2, [...op.get(J), ...op.get(HALF), ...op.geU, ...op.and]),
    ]),
    // J = half * 2 - warmUp: where the second walk goes on alone.
    ...op.get(HALF),
    ...op.get(HALF),
    ...op.add,
    ...op.const(warmUp),
    ...op.sub,
    ...op.set(J),
    ...whileBelow(J, op.get(LEN), [...step(S2, J), ...record(S2, J, N2, layout.hits2)]),
    ...finish(S2),
    ...op.end,
  ];
  const body = [...vec([[...uleb(EXTRA_LOCALS), I32]]), ...code];
  const pages = Math.ceil(layout.size / PAGE);
  const mutableI32 = [I32, 1, ...op.const(0), ...op.end];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    // type 0: (i32, i32) -> i32
    ...section(1, vec([[0x60, ...vec([[I32], [I32]]), ...vec([[I32]])]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x01, ...uleb(pages), ...uleb(pages)]])),
    ...section(6, vec([mutableI32, mutableI32])),
    ...section(
      7,
      vec([
        [...name('scan'), 0x00, 0],
        [...name('memory'), 0x02, 0],
        [...name('count1'), 0x03, 0],
        [...name('count2'), 0x03, 1],
      ]),
    ),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

export function instantiateAutomaton(module: Uint8Array): AutomatonExports {
  const api = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
  return new api.Instance(new api.Module(module)).exports as AutomatonExports;
}
