/**
 * The checkpoint of a submission: a small JSON file next to the input recording how many data
 * rows Crosslink has acknowledged, so that an interrupted run resumes where it stopped.
 */
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { ClientConfigError } from './errors.js';

const checkpointSchema = z.object({
  version: z.literal(1),
  /** The input as it was when the run started: a different size or mtime means a different file. */
  input: z.object({ sizeBytes: z.number(), mtimeMs: z.number() }),
  /** Where the rows went: resuming against another server or as another platform must not skip rows. */
  target: z.object({ url: z.string(), platform: z.string() }),
  /** Data rows, counted from the start of the file, whose batches Crosslink has answered. */
  rowsAcknowledged: z.number().int().min(0),
  complete: z.boolean(),
  totals: z.object({ accepted: z.number(), rejected: z.number() }),
  updatedAt: z.string(),
});
/** What the checkpoint file holds. */
export type Checkpoint = z.infer<typeof checkpointSchema>;

/** The checkpoint path for an input file: `<input>.crosslink-checkpoint.json`. */
export function checkpointPathFor(inputPath: string): string {
  return `${inputPath}.crosslink-checkpoint.json`;
}

/** The size and mtime that identify the input's current contents. */
export async function fingerprintInput(inputPath: string): Promise<Checkpoint['input']> {
  const info = await stat(inputPath);
  return { sizeBytes: info.size, mtimeMs: Math.trunc(info.mtimeMs) };
}

/**
 * The checkpoint at `path`, or undefined when there is none.
 *
 * @throws ClientConfigError when the file exists but is not a checkpoint.
 */
export async function readCheckpoint(path: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return checkpointSchema.parse(JSON.parse(text));
  } catch (error) {
    throw new ClientConfigError(`the checkpoint ${path} is unreadable: delete it or pass --restart`, { cause: error });
  }
}

/** Replaces the checkpoint atomically (write then rename), so a crash never leaves half a file. */
export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const temporary = `${path}.tmp`;
  await writeFile(temporary, `${JSON.stringify(checkpoint, null, 2)}\n`);
  await rename(temporary, path);
}
