// When to colour: `--color always|never` decide; `auto` (the default) colours only a terminal, and follows the
// conventions: FORCE_COLOR (non-empty, not "0") forces colour, NO_COLOR (non-empty) turns it off, TERM=dumb too.
// The older `--no-color` is `--color never`.

export type ColorChoice = 'auto' | 'always' | 'never';

export function parseColorChoice(value: string | undefined, noColor: boolean): ColorChoice | string {
  if (noColor) return 'never';
  if (value === undefined) return 'auto';
  if (value === 'auto' || value === 'always' || value === 'never') return value;
  return `--color must be auto, always or never, not "${value}"`;
}

export function useColor(choice: ColorChoice, stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (choice !== 'auto') return choice === 'always';
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '' ) return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}
