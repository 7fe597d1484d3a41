// Small phrases every face (app, CLI) builds the same way.

/** "1 photo", "3 photos". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
