// What the Models view says about a licence a user filled in on a card.

/**
 * True when a licence text restricts commercial use: Creative Commons "NC" variants (CC BY-NC-SA 4.0 …) or
 * the words "non-commercial" / "noncommercial" / "not for commercial use". Many community models carry one,
 * and a photo restored for a client would break it.
 */
export function isNonCommercial(license: string | null | undefined): boolean {
  if (!license) return false;
  return /(^|[^A-Za-z])NC([^A-Za-z]|$)/.test(license) || /non[-\s]?commercial|not\s+for\s+commercial/i.test(license);
}
