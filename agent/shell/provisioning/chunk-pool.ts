/**
 * Shared pieces of rendered files. The files of one office are mostly the same text: a fully written
 * Yealink `<mac>.cfg` is ~1,000 lines, of which a few dozen differ between phones (accounts,
 * credentials, labels), the cleared account and key slots being identical in every file. The render
 * cache keeps each file as a list of chunks and keeps every distinct chunk once, so 10,000 phones'
 * files take a few tens of megabytes instead of hundreds.
 *
 * Chunks are cut at line ends, content-defined (as rsync and backup tools cut files): once a chunk
 * holds at least {@link MIN_CHUNK_BYTES}, it ends after the first line whose own bytes say "cut". The
 * cut depends only on the line itself, so after a line that differs between two files the chunks fall
 * into step again at the next such line, and equal stretches give equal chunks.
 */

import type { PhoneFile } from '../../vendors/driver.js';
import type { FileMeta } from './served-file.js';

/** A chunk of rendered text, shared by every cached file holding it. */
export interface Chunk {
  readonly bytes: Buffer;
  /** Hash of the bytes (the pool's key; equal hashes are told apart by the bytes). */
  readonly hash: number;
  /** Cached files holding this chunk (the pool drops it when none is left). */
  refs: number;
}

/** A chunk ends once it holds this many bytes and its last line says "cut". */
export const MIN_CHUNK_BYTES = 512;

/** Bookkeeping cost of one distinct chunk besides its bytes (map slot, Buffer and chunk objects). */
const CHUNK_OVERHEAD = 160;

/** FNV-1a, 32 bits, of `b[start, end)` continued from `h`. */
function fnv(b: Uint8Array, start: number, end: number, h: number): number {
  for (let i = start; i < end; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  return h;
}
const FNV_SEED = 0x811c9dc5;

/** Where a file's chunks end (exclusive byte offsets, the last is the file's length) and each chunk's hash. */
export interface ChunkCuts {
  readonly ends: Uint32Array;
  readonly hashes: Int32Array;
}

/** Cuts `bytes` into chunks (pure: the render worker does it next to the render, the cache only looks chunks up). */
export function cutChunks(bytes: Uint8Array): ChunkCuts {
  const ends: number[] = [];
  const hashes: number[] = [];
  let from = 0;
  let line = 0;
  let hash = FNV_SEED;
  while (line < bytes.length) {
    const nl = bytes.indexOf(10, line);
    const end = nl < 0 ? bytes.length : nl + 1;
    // The line's own hash decides the cut (about one line in four says "cut"); it also feeds the chunk's hash.
    const lineHash = fnv(bytes, line, end, FNV_SEED);
    hash = Math.imul(hash ^ lineHash, 0x01000193);
    if ((end - from >= MIN_CHUNK_BYTES && lineHash >>> 30 === 0) || end === bytes.length) {
      ends.push(end);
      hashes.push(hash);
      from = end;
      hash = FNV_SEED;
    }
    line = end;
  }
  return { ends: Uint32Array.from(ends), hashes: Int32Array.from(hashes) };
}

/** A rendered file encoded as sent (UTF-8, in its own memory, so it can move between threads) and cut into chunks. */
export interface EncodedFile {
  readonly meta: FileMeta;
  readonly bytes: Buffer;
  readonly cuts: ChunkCuts;
}

/** Encodes and cuts a rendered file. */
export function encodeFile(file: PhoneFile): EncodedFile {
  const { body, ...meta } = file;
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(body, 'utf8'));
  bytes.write(body, 'utf8');
  return { meta, bytes, cuts: cutChunks(bytes) };
}

/** The distinct chunks of every cached file, with reference counts. */
export class ChunkPool {
  /** Hash -> the chunks with that hash (almost always one). */
  private readonly chunks = new Map<number, Chunk[]>();
  private count = 0;
  private held = 0;

  /**
   * Splits `bytes` into chunks, sharing those already held, and takes a reference on each.
   * Returns the chunks and the bytes newly held by the pool (counted in {@link bytes}).
   */
  intern(bytes: Buffer, cuts: ChunkCuts = cutChunks(bytes)): { readonly chunks: readonly Chunk[]; readonly added: number } {
    const out: Chunk[] = [];
    let added = 0;
    let from = 0;
    cuts.ends.forEach((end, i) => {
      const hash = cuts.hashes[i] ?? 0;
      const piece = bytes.subarray(from, end);
      const bucket = this.chunks.get(hash);
      let c = bucket?.find((x) => x.bytes.equals(piece));
      if (c === undefined) {
        // Its own memory, not a slice of the file or of Node's shared pool: a freed chunk must free its bytes.
        const own = Buffer.allocUnsafeSlow(piece.length);
        piece.copy(own);
        c = { bytes: own, hash, refs: 0 };
        if (bucket) bucket.push(c);
        else this.chunks.set(hash, [c]);
        this.count++;
        added += costOf(piece.length);
      }
      c.refs++;
      out.push(c);
      from = end;
    });
    this.held += added;
    return { chunks: out, added };
  }

  /** Drops one reference on each chunk; chunks nobody holds leave the pool. Returns the bytes freed. */
  release(chunks: readonly Chunk[]): number {
    let freed = 0;
    for (const c of chunks) {
      if (--c.refs > 0) continue;
      const bucket = this.chunks.get(c.hash);
      const at = bucket ? bucket.indexOf(c) : -1;
      if (!bucket || at < 0) continue;
      if (bucket.length === 1) this.chunks.delete(c.hash);
      else bucket.splice(at, 1);
      this.count--;
      freed += costOf(c.bytes.length);
    }
    this.held -= freed;
    return freed;
  }

  /** Approximate memory held by the distinct chunks. */
  get bytes(): number {
    return this.held;
  }

  /** Distinct chunks held. */
  get size(): number {
    return this.count;
  }

  /** Forgets every chunk. */
  clear(): void {
    this.chunks.clear();
    this.count = 0;
    this.held = 0;
  }
}

/** Memory one distinct chunk of `n` bytes costs: its Buffer plus bookkeeping. */
function costOf(n: number): number {
  return n + CHUNK_OVERHEAD;
}

/** The file the chunks make up, as one Buffer of `length` bytes. */
export function joinChunks(chunks: readonly Chunk[], length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c.bytes, at);
    at += c.bytes.length;
  }
  return out;
}
