// The synthesis preview's steps in words, with rounded values: "gaussianNoise(sigma=12.347, clip=true)" reads
// "noise, strength 12 of 255". The engine sends each step as `op(key=value, ...)` (engine/data/synth/preview.ts).

type Params = Record<string, string>;

const pct = (v: string | undefined): string => `${Math.round(Number(v) * 100)}%`;
const whole = (v: string | undefined): string => `${Math.round(Number(v))}`;
const oneDecimal = (v: string | undefined): string => `${Math.round(Number(v) * 10) / 10}`;
const count = (one: string, v: string | undefined, many = `${one}s`): string => `${whole(v)} ${whole(v) === '1' ? one : many}`;

/** Each op in words; the value named as a user would judge it. */
const WORDS: Record<string, (p: Params) => string> = {
  gaussianNoise: (p) => `noise, strength ${whole(p.sigma)} of 255`,
  poissonNoise: (p) => `shot noise (${whole(p.peak)} photons at white)`,
  speckleNoise: (p) => `speckle noise ${pct(p.sigma)}`,
  saltPepper: (p) => `salt-and-pepper noise on ${pct(p.amount)} of pixels`,
  gaussianBlur: (p) => `blur of ${oneDecimal(p.sigma)} px`,
  motionBlur: (p) => `motion blur of ${whole(p.length)} px at ${whole(p.angle)}°`,
  downscale: (p) => `shrunk to 1/${oneDecimal(p.factor)} and enlarged back`,
  jpeg: (p) => `JPEG at quality ${whole(p.quality)}`,
  fade: (p) => `faded by ${pct(p.amount)}`,
  yellowing: (p) => `yellowed by ${pct(p.amount)}`,
  sepia: (p) => `sepia toned ${pct(p.amount)}`,
  contrast: (p) => `contrast lowered by ${pct(p.amount)}`,
  brightness: (p) => `${Number(p.delta) < 0 ? 'darkened' : 'brightened'} by ${pct(String(Math.abs(Number(p.delta))))}`,
  scratches: (p) => count('scratch', p.count, 'scratches'),
  dust: (p) => count('dust spot', p.count),
  specks: (p) => count('speck', p.count),
  flakes: (p) => count('flake', p.count),
  cracks: (p) => count('crack', p.count),
  hairs: (p) => count('hair', p.count),
  edgeWear: (p) => `worn edges, ${pct(p.depth)} deep`,
  monochrome: () => 'black and white',
  filmGrain: (p) => `film grain ${pct(p.amount)}`,
  vignette: (p) => `darkened corners ${pct(p.strength)}`,
};

/** One step string in words; a step this table does not know keeps its name with its numbers rounded. */
export function stepInWords(step: string): string {
  const match = /^(\w+)\((.*)\)$/.exec(step.trim());
  if (!match) return step;
  const [, op, body] = match;
  const params: Params = {};
  for (const pair of body!.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [key, value = ''] = pair.split('=');
    params[key!.trim()] = value.trim();
  }
  const words = WORDS[op!];
  if (words) return words(params);
  const rounded = Object.entries(params).map(([k, v]) => `${k} ${Number.isFinite(Number(v)) && v !== '' ? Math.round(Number(v) * 100) / 100 : v}`);
  return rounded.length ? `${op} (${rounded.join(', ')})` : op!;
}
