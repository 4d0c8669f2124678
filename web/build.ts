/**
 * Builds the console into `web/dist` with esbuild: `app.js` (the bundle, sigma and graphology
 * included), `index.html` and `styles.css`. `npm run build:web` forces a build; the local stack calls
 * {@link ensureConsoleBuilt}, which builds only when `web/dist` is missing or older than its sources
 * (a content hash in `dist/build-stamp.json`), so `npm start` on a fresh clone serves a current console.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The console's folder (`web/`). */
export const WEB_DIR = dirname(fileURLToPath(import.meta.url));
/** Where the built console is served from. */
export const DIST_DIR = join(WEB_DIR, 'dist');
const STAMP_FILE = 'build-stamp.json';
const STATIC_FILES = ['index.html', 'styles.css'];
/** Sources outside web/ that the bundle includes (shared with the API). */
const SHARED_SOURCES = [resolve(WEB_DIR, '../lib/reports/evidence-path.ts')];

function sourceFiles(): string[] {
  const src = join(WEB_DIR, 'src');
  return [...readdirSync(src).filter((name) => name.endsWith('.ts')).map((name) => join(src, name)), ...STATIC_FILES.map((name) => join(WEB_DIR, name)), ...SHARED_SOURCES].sort();
}

/** A hash over every source of the console and the esbuild version. */
export function sourceHash(): string {
  const hash = createHash('sha256');
  for (const file of sourceFiles()) hash.update(relative(WEB_DIR, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

function stampOfDist(): string | undefined {
  try {
    return JSON.parse(readFileSync(join(DIST_DIR, STAMP_FILE), 'utf8')).sourceHash;
  } catch {
    return undefined;
  }
}

/** Writes a file via a temporary name and a rename, so that a concurrent reader never sees half of it. */
function writeAtomically(path: string, contents: string | Uint8Array): void {
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

/**
 * Bundles the console into `web/dist` and answers how long it took.
 *
 * @example
 * const { ms } = await buildConsole(); // { ms: 120, files: ['app.js', 'index.html', 'styles.css'] }
 */
export async function buildConsole(options: { minify?: boolean } = {}): Promise<{ ms: number; files: string[] }> {
  const started = performance.now();
  const { build } = await import('esbuild');
  const hash = sourceHash();
  const result = await build({
    entryPoints: { app: join(WEB_DIR, 'src/main.ts') },
    bundle: true,
    // The cluster page (sigma, graphology) is a separate chunk, loaded when a cluster is opened.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: options.minify ?? true,
    sourcemap: false,
    write: false,
    outdir: DIST_DIR,
    logLevel: 'silent',
  });
  mkdirSync(DIST_DIR, { recursive: true });
  const files: string[] = [];
  mkdirSync(join(DIST_DIR, 'chunks'), { recursive: true });
  for (const output of result.outputFiles) {
    writeAtomically(output.path, output.contents);
    files.push(relative(DIST_DIR, output.path));
  }
  // Chunks are named by content hash: drop those no build of these sources refers to.
  for (const name of readdirSync(join(DIST_DIR, 'chunks'))) {
    if (!files.includes(join('chunks', name))) rmSync(join(DIST_DIR, 'chunks', name), { force: true });
  }
  for (const name of STATIC_FILES) {
    writeAtomically(join(DIST_DIR, name), readFileSync(join(WEB_DIR, name)));
    files.push(name);
  }
  writeAtomically(join(DIST_DIR, STAMP_FILE), `${JSON.stringify({ sourceHash: hash, builtAt: new Date().toISOString() })}\n`);
  return { ms: Math.round(performance.now() - started), files };
}

/** Builds the console unless `web/dist` already holds a build of the current sources; answers whether it built. */
export async function ensureConsoleBuilt(): Promise<{ built: boolean; ms: number }> {
  if (stampOfDist() === sourceHash()) return { built: false, ms: 0 };
  const { ms } = await buildConsole();
  return { built: true, ms };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { ms, files } = await buildConsole();
  console.log(`built the console into ${relative(process.cwd(), DIST_DIR)}/ in ${ms} ms: ${files.join(', ')}`);
}
