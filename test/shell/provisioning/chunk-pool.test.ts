/** Content-defined chunks of rendered files: cut at line ends, equal text gives equal chunks, shared chunks are held once. */
import { describe, expect, it } from 'vitest';
import { ChunkPool, cutChunks, encodeFile, joinChunks, MIN_CHUNK_BYTES } from '../../../agent/shell/provisioning/chunk-pool.js';

const lines = (n: number, own: (i: number) => string | undefined = () => undefined): string =>
  `${Array.from({ length: n }, (_, i) => own(i) ?? `setting.${i}.value = ${i % 7}`).join('\n')}\n`;

/** The chunk texts of `text`. */
function pieces(text: string): string[] {
  const bytes = Buffer.from(text);
  const { ends } = cutChunks(bytes);
  const out: string[] = [];
  let from = 0;
  for (const end of ends) {
    out.push(bytes.toString('utf8', from, end));
    from = end;
  }
  return out;
}

describe('cutChunks', () => {
  it('cuts only at line ends, covers the whole file, and keeps chunks at least MIN_CHUNK_BYTES but the last', () => {
    const text = lines(2_000);
    const got = pieces(text);
    expect(got.join('')).toBe(text);
    expect(got.length).toBeGreaterThan(10);
    for (const p of got.slice(0, -1)) {
      expect(p.endsWith('\n')).toBe(true);
      expect(Buffer.byteLength(p)).toBeGreaterThanOrEqual(MIN_CHUNK_BYTES);
    }
    expect(cutChunks(Buffer.alloc(0)).ends.length).toBe(0);
    expect(pieces('no newline at all')).toEqual(['no newline at all']);
  });

  it('is content-defined: a line changed in the middle changes the chunks around it only', () => {
    const a = pieces(lines(2_000));
    const b = pieces(lines(2_000, (i) => (i === 1_000 ? 'account.1.password = s3cr3t-of-this-phone' : undefined)));
    const common = a.filter((p) => b.includes(p)).length;
    expect(a.length - common).toBeLessThanOrEqual(3);
    expect(b.length - common).toBeLessThanOrEqual(3);
    // Chunk hashes are the same for the same text wherever it is.
    const ha = cutChunks(Buffer.from(lines(2_000))).hashes;
    expect(Array.from(ha.slice(0, 5))).toEqual(Array.from(cutChunks(Buffer.from(lines(2_000))).hashes.slice(0, 5)));
  });
});

describe('ChunkPool', () => {
  it('holds an equal chunk once, gives every file back byte for byte, and frees chunks nobody holds', () => {
    const pool = new ChunkPool();
    const files = [0, 1, 2].map((k) =>
      encodeFile({
        name: `f${k}`,
        contentType: 'text/plain',
        body: lines(2_000, (i) => (i === 10 ? `own.line = Zoë ${k}` : undefined)),
        secret: false,
        carriesRevision: false,
      }),
    );
    const held = files.map((f) => pool.intern(f.bytes, f.cuts));
    for (const [k, h] of held.entries()) expect(joinChunks(h.chunks, files[k]!.bytes.length).equals(files[k]!.bytes)).toBe(true);
    // The second and third files add only their own chunk(s).
    expect(held[1]!.added).toBeLessThan(held[0]!.added / 5);
    const shared = held[0]!.chunks.filter((c) => held[1]!.chunks.includes(c));
    expect(shared.length).toBeGreaterThan(held[0]!.chunks.length - 3);
    for (const c of shared) expect(c.refs).toBe(3);
    const before = pool.bytes;
    pool.release(held[2]!.chunks);
    expect(pool.bytes).toBeLessThan(before);
    pool.release(held[1]!.chunks);
    pool.release(held[0]!.chunks);
    expect([pool.size, pool.bytes]).toEqual([0, 0]);
  });
});
