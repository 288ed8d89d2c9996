/**
 * The special-character policy: one definition, used when a mapping is created (for the folder
 * path) and on every listed entry (for file names).
 *
 * Default set, and why each is in it:
 * - `\ : * ? " < > |`  not allowed in Windows file names, where the platform's files are opened;
 * - `# %`               break URLs and the platform's download links unless encoded;
 * - `& { } ~`           refused by SharePoint-style document stores the platform exports to.
 * Control characters (U+0000–U+001F, U+007F) are always refused, whatever the configured set.
 * Letters of any script are fine: `Kaivanto ä ö.dwg` passes, `plan#2?.pdf` does not.
 *
 * Configure the set with `SPECIAL_CHARACTERS` (the characters themselves, e.g. `#%?*`).
 */
export const DEFAULT_SPECIAL_CHARACTERS = '\\:*?"<>|#%&{}~';

export interface PathPolicy {
  /** The configured characters, for documentation and error messages. */
  readonly characters: string;
  /** The offending characters in `name`, each once, in order of first appearance. */
  offendingCharacters(name: string): string[];
  /** The offending characters in every segment of a `/`-separated Dropbox path. */
  offendingPathCharacters(path: string): string[];
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/u;

export function createPathPolicy(characters: string = DEFAULT_SPECIAL_CHARACTERS): PathPolicy {
  const forbidden = new Set(Array.from(characters));
  forbidden.delete('/');
  const offendingCharacters = (name: string): string[] => {
    const found: string[] = [];
    for (const ch of Array.from(name)) {
      if ((forbidden.has(ch) || CONTROL.test(ch)) && !found.includes(ch)) found.push(ch);
    }
    return found;
  };
  return {
    characters,
    offendingCharacters,
    offendingPathCharacters: (path) => offendingCharacters(path.split('/').join('')),
  };
}

/** Describes characters for people: control characters are shown as their code point. */
export function describeCharacters(chars: readonly string[]): string {
  return chars
    .map((c) => (CONTROL.test(c) ? `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : `"${c}"`))
    .join(', ');
}
