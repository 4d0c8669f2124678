import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileKernel, kernelModuleText } from '../../../bin/build-wasm.js';

describe('the PDQ kernel (lib/detect/pdq-kernel.wat)', () => {
  it('is committed as compiled from its source: run `npm run build:wasm` after changing the .wat file', async () => {
    const committed = readFileSync(new URL('../../../lib/detect/pdq-kernel-wasm.ts', import.meta.url), 'utf8');

    expect(committed).toBe(kernelModuleText(await compileKernel()));
  });
});
