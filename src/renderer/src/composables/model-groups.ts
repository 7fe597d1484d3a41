// Restoration models grouped by what they restore, so a picker never sets side by side the scores of
// different tasks (a denoiser's PSNR on noise is not comparable with an old-photo model's on old photos).
import type { ModelListItem } from '#shared/model-library';

/** The model Restore uses when none is chosen (the engine's DEFAULT_RESTORE_MODEL). */
export const DEFAULT_RESTORE_MODEL = 'old-photo';
/** The damage detector Restore's repair stage uses when none is chosen (the engine's DEFAULT_DAMAGE_MODEL). */
export const DEFAULT_DAMAGE_MODEL = 'damage';
/** The damage filler repair uses for its holes when installed (the engine's DEFAULT_FILL_MODEL). */
export const DEFAULT_FILL_MODEL = 'fill';

export interface ModelGroup {
  label: string;
  models: ModelListItem[];
}

const OLD_PHOTOS = 'Old photos';
const GROUPS: { label: string; matches(preset: string): boolean }[] = [
  { label: OLD_PHOTOS, matches: (p) => p.startsWith('old-photo') },
  { label: 'Noise', matches: (p) => p.startsWith('gaussian') || p.startsWith('noise') },
  { label: 'JPEG artefacts', matches: (p) => p.startsWith('jpeg') },
];
const OTHER = 'Other damage';

function groupOf(model: ModelListItem): string {
  const preset = model.restores?.preset ?? (model.id === DEFAULT_RESTORE_MODEL ? 'old-photo' : '');
  return GROUPS.find((g) => g.matches(preset))?.label ?? OTHER;
}

/** Whether a restorer is made for old photos (trained on an old-photo preset, or the default model). */
export function isOldPhotoModel(model: ModelListItem): boolean {
  return groupOf(model) === OLD_PHOTOS;
}

/** Groups in a fixed order (old photos first), the default model first in its group, empty groups left out. */
export function groupModels(models: ModelListItem[]): ModelGroup[] {
  const order = [...GROUPS.map((g) => g.label), OTHER];
  return order
    .map((label) => ({
      label,
      models: models
        .filter((m) => groupOf(m) === label)
        .sort((a, b) => Number(b.id === DEFAULT_RESTORE_MODEL) - Number(a.id === DEFAULT_RESTORE_MODEL)),
    }))
    .filter((g) => g.models.length > 0);
}

/** "Old photo (default)", "Denoise · 29.2 dB": the name once, the score within its group. */
export function modelOptionLabel(model: ModelListItem): string {
  const score = model.psnr !== null ? ` · ${model.psnr.toFixed(1)} dB` : '';
  return `${model.name ?? model.id}${model.id === DEFAULT_RESTORE_MODEL ? ' (default)' : ''}${score}`;
}
