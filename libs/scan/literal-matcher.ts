// Finds which of a fixed set of ASCII literals occur in a byte buffer, in one pass (Aho–Corasick):
// the work per byte is one table lookup however many literals there are, where a RegExp alternation
// gets slower with each literal (on this machine kind, about 270 MB/s for 30 plain literals and
// 85 MB/s once some are case-insensitive). The walk itself runs as WebAssembly (automaton-wasm.ts).
//
// The automaton reads bytes with ASCII letters folded to lower case, so case-insensitive literals
// cost nothing extra; a case-sensitive literal is checked byte for byte when the folded form is
// seen, which is rare for the literals this is used with.

import {
  type AutomatonExports,
  type AutomatonLayout,
  automatonLayout,
  automatonModule,
  HIT_BYTES,
  instantiateAutomaton,
  WALKS,
} from './automaton-wasm';

export interface Literal {
  /** ASCII only (bytes 0x20–0x7e). */
  text: string;
  /** Match ASCII letters in either case (other bytes always match exactly). */
  ignoreCase?: boolean;
}

const ALPHABET = 256;
/**
 * Bytes handed to the WebAssembly loop at a time (the state carries over). Its memory holds one
 * chunk and up to one hit per byte of it: 64 KiB of input, 512 KiB of hits.
 */
const CHUNK = 64 * 1024;
const UPPER_A = 0x41;
const UPPER_Z = 0x5a;
const CASE_BIT = 0x20;

function foldByte(b: number): number {
  return b >= UPPER_A && b <= UPPER_Z ? b | CASE_BIT : b;
}

export class LiteralMatcher {
  private readonly literals: readonly Uint8Array[];
  private readonly ignoreCase: readonly boolean[];
  /**
   * Bytes that no literal holds (in either case) share class 0; each other byte has a class of its
   * own, upper and lower case letters one together. The table is indexed by class rather than by
   * byte: 40-odd columns instead of 256 keep the rows the walk visits most within the CPU's caches.
   */
  private readonly classes: number;
  /**
   * States are numbered times `classes` (a row's start), so that a step only adds. States that end
   * at least one literal are numbered last, from `firstAccepting`, so one comparison tells whether
   * a byte completed something.
   */
  private readonly firstAccepting: number;
  /** Literal indexes that end in each accepting state (numbered from `firstAccepting`). */
  private readonly endingHere: readonly (readonly number[])[];
  private readonly layout: AutomatonLayout;
  private readonly wasm: AutomatonExports;
  /** The module's memory, as bytes and as i32 (the hit lists). */
  private readonly heap: Uint8Array;
  private readonly heap32: Int32Array;
  /** The walks' hit counts (globals of the module), in walk order. */
  private readonly counts: readonly { value: number }[];

  constructor(literals: readonly Literal[]) {
    this.literals = literals.map(({ text }) => {
      if (text.length === 0 || !/^[\x20-\x7e]+$/.test(text))
        throw new Error(`literal ${JSON.stringify(text)} must be non-empty printable ASCII`);
      return Buffer.from(text, 'latin1');
    });
    this.ignoreCase = literals.map((l) => l.ignoreCase === true);
    const longest = Math.max(1, ...this.literals.map((l) => l.length));

    // The trie of the folded literals; state 0 is the root.
    const children: Map<number, number>[] = [new Map<number, number>()];
    const ends: number[][] = [[]];
    this.literals.forEach((bytes, index) => {
      let state = 0;
      for (const b of bytes) {
        const folded = foldByte(b);
        let child = children[state].get(folded);
        if (child === undefined) {
          child = children.length;
          children.push(new Map<number, number>());
          ends.push([]);
          children[state].set(folded, child);
        }
        state = child;
      }
      ends[state].push(index);
    });

    // Byte classes, and a representative byte of each (the folded byte the trie is keyed by).
    const classOf = new Uint8Array(ALPHABET);
    const representative = [0];
    for (const literal of this.literals)
      for (const b of literal) {
        const folded = foldByte(b);
        if (classOf[folded] === 0) {
          classOf[folded] = representative.length;
          representative.push(folded);
        }
      }
    for (let b = UPPER_A; b <= UPPER_Z; b++) classOf[b] = classOf[b | CASE_BIT];
    const classes = (this.classes = representative.length);

    // Failure links breadth first, over classes (bytes of one class lead to the same states); a
    // state's outputs include those of its failure state.
    const count = children.length;
    const goto = new Int32Array(count * classes);
    const fail = new Int32Array(count);
    const outputs: number[][] = ends.map((e) => [...e]);
    const queue: number[] = [];
    for (let c = 0; c < classes; c++) {
      const child = children[0].get(representative[c]);
      if (child !== undefined) {
        goto[c] = child;
        queue.push(child);
      }
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head];
      outputs[state].push(...outputs[fail[state]]);
      for (let c = 0; c < classes; c++) {
        const child = children[state].get(representative[c]);
        if (child === undefined) goto[state * classes + c] = goto[fail[state] * classes + c];
        else {
          fail[child] = goto[fail[state] * classes + c];
          goto[state * classes + c] = child;
          queue.push(child);
        }
      }
    }

    // Renumber: the root stays 0 (it ends nothing), accepting states go last.
    const order = [
      ...Array.from({ length: count }, (_, s) => s).filter((s) => outputs[s].length === 0),
      ...Array.from({ length: count }, (_, s) => s).filter((s) => outputs[s].length > 0),
    ];
    const renamed = new Int32Array(count);
    order.forEach((old, fresh) => (renamed[old] = fresh));
    const accepting = order.findIndex((s) => outputs[s].length > 0);
    this.firstAccepting = (accepting === -1 ? count : accepting) * classes;
    this.endingHere = order.filter((s) => outputs[s].length > 0).map((s) => outputs[s]);

    // The WebAssembly loop reads states and classes as byte offsets (times 4, an i32 each).
    this.layout = automatonLayout(count * classes, CHUNK);
    this.wasm = instantiateAutomaton(automatonModule(this.layout, this.firstAccepting * 4, longest));
    this.heap = new Uint8Array(this.wasm.memory.buffer);
    this.heap32 = new Int32Array(this.wasm.memory.buffer);
    this.counts = Array.from({ length: WALKS }, (_, k) => this.wasm[`count${k}`]);
    for (let b = 0; b < ALPHABET; b++) this.heap32[(this.layout.classOf >> 2) + b] = classOf[b] * 4;
    const table = this.layout.table >> 2;
    for (let old = 0; old < count; old++) {
      const row = renamed[old] * classes;
      for (let c = 0; c < classes; c++)
        this.heap32[table + row + c] = renamed[goto[old * classes + c]] * classes * 4;
    }
  }

  /**
   * Calls `visit` for every occurrence of every literal in `bytes`, in order of where it ends
   * (`end` is the index of its last byte). Not re-entrant: `visit` must not scan with this matcher.
   */
  scan(bytes: Uint8Array, visit: (literal: number, end: number) => void): void {
    const { wasm, layout, heap, counts } = this;
    let state = 0;
    for (let offset = 0; offset < bytes.length; offset += CHUNK) {
      const len = Math.min(CHUNK, bytes.length - offset);
      heap.set(len === bytes.length ? bytes : bytes.subarray(offset, offset + len), layout.input);
      state = wasm.scan(len, state);
      // The walks' lists in order: each holds the hits of a later part of the piece.
      for (let k = 0; k < WALKS; k++) this.visitHits(layout.hits[k], counts[k].value, bytes, offset, visit);
    }
  }

  private visitHits(
    hits: number,
    count: number,
    bytes: Uint8Array,
    offset: number,
    visit: (literal: number, end: number) => void,
  ): void {
    const { heap32, firstAccepting, classes } = this;
    for (let k = 0, at = hits >> 2; k < count; k++, at += HIT_BYTES >> 2) {
      const end = offset + heap32[at];
      for (const literal of this.endingHere[((heap32[at + 1] >> 2) - firstAccepting) / classes])
        if (this.ignoreCase[literal] || this.exactAt(literal, bytes, end)) visit(literal, end);
    }
  }

  /** Which literals occur in `bytes`: `found[i]` is 1 when literal `i` does. */
  find(bytes: Uint8Array): Uint8Array {
    const found = new Uint8Array(this.literals.length);
    this.scan(bytes, (literal) => (found[literal] = 1));
    return found;
  }

  /** Whether literal `index` occurs with its exact case, ending at `end`. */
  private exactAt(index: number, bytes: Uint8Array, end: number): boolean {
    const literal = this.literals[index];
    const start = end + 1 - literal.length;
    for (let k = 0; k < literal.length; k++) if (bytes[start + k] !== literal[k]) return false;
    return true;
  }
}
