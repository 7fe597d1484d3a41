import sharp from 'sharp';
const [a, b, size] = [process.argv[2]!, process.argv[3]!, Number(process.argv[4] ?? 200)];
const A = await sharp(a).removeAlpha().raw().toBuffer({ resolveWithObject: true });
const B = await sharp(b).removeAlpha().raw().toBuffer();
const { width: w, height: h } = A.info;
const d = new Float64Array(w * h);
let tot = 0;
for (let p = 0; p < w * h; p++) { for (let c = 0; c < 3; c++) d[p] += Math.abs(A.data[p * 3 + c]! - B[p * 3 + c]!); tot += d[p]!; }
console.log(w, h, 'mean abs diff per px', (tot / (w * h) / 3).toFixed(3));
const wins: [number, number, number][] = [];
for (let y = 0; y + size <= h; y += size / 2) for (let x = 0; x + size <= w; x += size / 2) {
  let s = 0; for (let yy = y; yy < y + size; yy++) for (let xx = x; xx < x + size; xx++) s += d[yy * w + xx]!;
  wins.push([s, x, y]);
}
wins.sort((p, q) => q[0] - p[0]);
console.log(wins.slice(0, 4).map(([s, x, y]) => `${x},${y} ${(s / size / size / 3).toFixed(2)}`).join(' | '));
