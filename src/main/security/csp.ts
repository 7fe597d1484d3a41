// One Content-Security-Policy for the Electron window and browser mode: only our own scripts and styles,
// images from our own origin (and the image protocol), sockets only to the given addresses.
export function contentSecurityPolicy(options: { connect?: string[]; img?: string[] } = {}): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob: ${(options.img ?? []).join(' ')}`.trim(),
    "font-src 'self'",
    `connect-src 'self' ${(options.connect ?? []).join(' ')}`.trim(),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
