/** Mends two defects of dynalite's LevelDB in this thread (see level-fixes.mjs); later calls do nothing. */
export function mendLevel(): void;
