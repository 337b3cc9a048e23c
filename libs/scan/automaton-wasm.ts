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
//     ends a literal, and (position, state) goes to a list of hits.
//
// Each step waits for the previous one's table look-up, so one walk leaves the CPU idle most of
// the time: a long input is read by WALKS walks at once, one per part (walk k > 0 starts
// `longest - 1` bytes before its part, so it is in the right state there, and keeps hits from
// its part on). Walk k's hits go to list k, their count to the global `count<k>`; the returned
// state is the one after the last byte. Each list can hold one hit per byte of its part, so it
// never overflows.

/**
 * Walks at once over a long input (a power of two). Measured on this machine kind: two read 1.7
 * times as fast as one, four 1.25 times as fast as two, eight slower than four (too few registers).
 */
export const WALKS = 4;
const WALKS_LOG2 = Math.log2(WALKS);

/** Where things are in the module's memory, in bytes. */
export interface AutomatonLayout {
  /** 256 i32: a byte's class times 4. */
  classOf: number;
  /** i32 per (state, class): the next state's row, as a byte offset from `table`. */
  table: number;
  input: number;
  /** Largest `len` one call takes. */
  chunk: number;
  /** Where each walk's list of hits starts. */
  hits: number[];
  /** Bytes of memory needed. */
  size: number;
}

export interface AutomatonExports {
  memory: { buffer: ArrayBuffer };
  scan(len: number, state: number): number;
  /** `count0`… : the hits in each walk's list. */
  [count: `count${number}`]: { value: number };
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
  // Each walk keeps hits for at most its part of the chunk; the last one also the odd bytes.
  const hitsBytes = ((chunk >> WALKS_LOG2) + WALKS) * HIT_BYTES;
  const first = align(input + chunk, 8);
  const hits = Array.from({ length: WALKS }, (_, k) => first + k * hitsBytes);
  return { classOf, table, input, chunk, hits, size: first + WALKS * hitsBytes };
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
  mul: [0x6c],
  shl: [0x74],
  shrU: [0x76],
  sub: [0x6b],
  geU: [0x4f],
  ltU: [0x49],
  return: [0x0f],
};

// Locals of scan: the two parameters (the length, walk 0's state), then the rest.
const LEN = 0;
const PART = 2;
/** Walk k's state, position and number of hits. */
const STATE = (k: number) => (k === 0 ? 1 : 2 + 3 * k);
const POS = (k: number) => 3 + 3 * k;
const COUNT = (k: number) => 4 + 3 * k;
/** Locals after the parameters: PART, walk 0's position and count, three for each other walk. */
const EXTRA_LOCALS = 3 + 3 * (WALKS - 1);

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
  /** When `state` accepts, hits[n++] = (pos, state). */
  const record = (state: number, pos: number, n: number, hits: number) => [
    ...op.get(state),
    ...op.const(firstAccepting),
    ...op.geU,
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
    ...Array.from({ length: WALKS }, (_, k) => [...op.get(COUNT(k)), ...op.setGlobal(k)]).flat(),
    ...op.get(state),
  ];
  const warmUp = longest - 1;
  const walks = Array.from({ length: WALKS }, (_, k) => k);
  const last = WALKS - 1;
  const code = [
    // Short input: one walk.
    ...op.get(LEN),
    ...op.const(WALKS * (longest + 8)),
    ...op.ltU,
    ...op.if,
    ...whileBelow(POS(0), op.get(LEN), [
      ...step(STATE(0), POS(0)),
      ...record(STATE(0), POS(0), COUNT(0), layout.hits[0]),
    ]),
    ...finish(STATE(0)),
    ...op.return,
    ...op.end,
    // Walk k over part k, [k * part, (k + 1) * part); part > warmUp here. First each walk but the
    // first alone up to its part, recording nothing (the hot loop then has no test for it).
    ...op.get(LEN),
    ...op.const(WALKS_LOG2),
    ...op.shrU,
    ...op.set(PART),
    ...walks
      .slice(1)
      .flatMap((k) => [
        ...op.get(PART),
        ...op.const(k),
        ...op.mul,
        ...op.const(warmUp),
        ...op.sub,
        ...op.set(POS(k)),
        ...whileBelow(POS(k), [...op.get(PART), ...op.const(k), ...op.mul], step(STATE(k), POS(k))),
      ]),
    // All walks, one step each, until walk 0 reaches the end of its part.
    ...op.loop,
    ...walks.flatMap((k) => [
      ...step(STATE(k), POS(k)),
      ...record(STATE(k), POS(k), COUNT(k), layout.hits[k]),
      ...increment(POS(k)),
    ]),
    ...op.get(POS(0)),
    ...op.get(PART),
    ...op.ltU,
    ...op.brIf(0),
    ...op.end,
    // The bytes after the last whole part, if any.
    ...whileBelow(POS(last), op.get(LEN), [
      ...step(STATE(last), POS(last)),
      ...record(STATE(last), POS(last), COUNT(last), layout.hits[last]),
    ]),
    ...finish(STATE(last)),
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
    ...section(6, vec(Array.from({ length: WALKS }, () => mutableI32))),
    ...section(
      7,
      vec([
        [...name('scan'), 0x00, 0],
        [...name('memory'), 0x02, 0],
        ...Array.from({ length: WALKS }, (_, k) => [...name(`count${k}`), 0x03, k]),
      ]),
    ),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

export function instantiateAutomaton(module: Uint8Array): AutomatonExports {
  const api = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
  return new api.Instance(new api.Module(module)).exports as AutomatonExports;
}
