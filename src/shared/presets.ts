// The degradation presets, listed once for every face: the CLI's help (`studio synth`, `studio train
// --synth`) prints each name and description, and the train wizard offers the `choices` (concrete names, in
// words) in its picker. The recipes behind the names are the engine's (engine/data/synth/presets.ts).

export interface PresetChoice {
  /** A preset name the engine accepts (`gaussian:25`). */
  id: string;
  /** How the train wizard's picker says it. */
  label: string;
}

export interface PresetInfo {
  /** The name, or its pattern (`gaussian:<sigma>`). */
  name: string;
  description: string;
  /** What the train wizard offers of it; none: the preset is for the command line only. */
  choices?: PresetChoice[];
}

export const PRESETS: PresetInfo[] = [
  {
    name: 'gaussian-blind',
    description: 'white Gaussian noise, sigma uniform in [0, 55] per image, unclipped',
    choices: [{ id: 'gaussian-blind', label: 'Noise, any level (σ 0–55)' }],
  },
  {
    name: 'gaussian:<sigma>',
    description: 'white Gaussian noise of fixed sigma (0–255 scale), unclipped, as in denoising benchmarks',
    choices: [15, 25, 50].map((sigma) => ({ id: `gaussian:${sigma}`, label: `Noise σ ${sigma}` })),
  },
  {
    name: 'jpeg-blind',
    description: 'JPEG at a quality in [5, 95] (half below 40), 4:2:0 or 4:4:4 chroma, a second compression one time in four',
    choices: [{ id: 'jpeg-blind', label: 'JPEG artefacts, any quality' }],
  },
  {
    name: 'jpeg:<quality>',
    description: 'one JPEG round trip at the given quality (1–100)',
    choices: [{ id: 'jpeg:20', label: 'JPEG quality 20' }],
  },
  { name: 'poisson:<peak>', description: 'shot noise with `peak` photons at white' },
  { name: 'blur:<sigma>', description: 'Gaussian blur of sigma px' },
  { name: 'downscale:<factor>', description: 'shrink by factor (bicubic) and enlarge back (bicubic)' },
  {
    name: 'old-photo',
    description: 'random ageing + scanning chain: fading/yellowing, scratches, dust, blur, noise, downscale, JPEG',
    choices: [{ id: 'old-photo', label: 'Old photo (blur, noise, JPEG, fading, scratches, dust)' }],
  },
  {
    name: 'old-photo-damage',
    description:
      'varied print damage with its mask (scratches, dust, specks, flakes, cracks, hairs, worn edges; colour or b/w), reproduced once or twice: for damage detection',
  },
  {
    name: 'old-photo-restore',
    description:
      'old-photo-damage without its colour changes (the tone stage handles fading), one photo in ten left clean: what the bundled old-photo restorer learns',
    choices: [{ id: 'old-photo-restore', label: 'Old photo: damage, grain, blur, JPEG (tone left to the tone stage)' }],
  },
  {
    name: 'old-photo-fill',
    description:
      'old-photo-damage without its colour changes, every photo damaged (flakes included): what the damage filler learns to fill',
  },
  { name: 'none', description: 'no degradation (degraded = clean)' },
  { name: '<file>.json', description: 'a recipe file (see DegradationStepSchema)' },
];

/** The train wizard's picker, in the order of PRESETS. */
export const PRESET_CHOICES: PresetChoice[] = PRESETS.flatMap((p) => p.choices ?? []);
