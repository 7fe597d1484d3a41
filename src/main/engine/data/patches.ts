// Cropping patches out of decoded images, with the 8 flips/rotations of the square (the dihedral group)
// applied as part of the copy.

/** Pixels HWC, RGB unless `channels` says more (a filler's photo + mask); value = data[i] * scale. Covers 8-bit, 16-bit and float images. */
export interface PixelSource {
  width: number;
  height: number;
  data: Uint8Array | Uint16Array | Float32Array;
  scale: number;
  /** Default 3. */
  channels?: number;
}

/** Transform ids 0..7: bit 2 = mirror left↔right, bits 0–1 = number of quarter turns. 0 is identity. */
export type Dihedral = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

const maps = new Map<string, Int32Array>();

/** For transform t, where in the untransformed size×size crop each output pixel comes from (row*size+col). */
export function dihedralMap(size: number, t: number): Int32Array {
  const key = `${size}:${t}`;
  let map = maps.get(key);
  if (map) return map;
  map = new Int32Array(size * size);
  const turns = t & 3;
  const mirror = (t & 4) !== 0;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      let r = i;
      let c = mirror ? size - 1 - j : j;
      for (let k = 0; k < turns; k++) {
        const nr = c;
        c = size - 1 - r;
        r = nr;
      }
      map[i * size + j] = r * size + c;
    }
  }
  maps.set(key, map);
  return map;
}

/** Copies the size×size crop at (x0, y0) of `src`, transformed by t, into out[offset…] as floats. */
export function extractPatch(src: PixelSource, x0: number, y0: number, size: number, t: number, out: Float32Array, offset: number): void {
  const { data, width, scale } = src;
  const ch = src.channels ?? 3;
  if (t === 0) {
    for (let i = 0; i < size; i++) {
      let s = ((y0 + i) * width + x0) * ch;
      let d = offset + i * size * ch;
      for (let j = 0; j < size * ch; j++) out[d++] = data[s++]! * scale;
    }
    return;
  }
  const map = dihedralMap(size, t);
  for (let p = 0; p < size * size; p++) {
    const m = map[p]!;
    const r = (m / size) | 0;
    const c = m - r * size;
    const s = ((y0 + r) * width + x0 + c) * ch;
    const d = offset + p * ch;
    for (let k = 0; k < ch; k++) out[d + k] = data[s + k]! * scale;
  }
}

/** A width×height crop (no transform) as a float image buffer. */
export function cropRect(src: PixelSource, x0: number, y0: number, width: number, height: number): Float32Array {
  const ch = src.channels ?? 3;
  const out = new Float32Array(width * height * ch);
  const { data, scale } = src;
  for (let i = 0; i < height; i++) {
    let s = ((y0 + i) * src.width + x0) * ch;
    let d = i * width * ch;
    for (let j = 0; j < width * ch; j++) out[d++] = data[s++]! * scale;
  }
  return out;
}
