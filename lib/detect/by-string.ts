/** Orders strings by code unit, the same everywhere (unlike `localeCompare`), so that results are deterministic. */
export const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
