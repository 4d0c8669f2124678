/**
 * The one rule for signals stamped with a retired hashing key id: they are refused at the API and, when
 * they were accepted before the retirement and were still queued, not stored. Both ask it here.
 */
import type { Signal } from '../contract/signals.js';

/** Which hashing key ids are retired, and when (SignalRepository, with a strongly consistent read). */
export interface RetiredKeyIds {
  retiredKeyIds(keyIds: Iterable<string>): Promise<Map<string, string>>;
}

/**
 * Why each signal stamped with a retired key id is refused, by its position in `signals`; empty when
 * none is (and no read is made when no signal carries a key id).
 *
 * @example
 * await retiredKeyRefusals([{ ..., keyId: 'k1' }, { ..., keyId: 'k2' }], signals)
 * // -> Map { 0 => 'hashing key id k1 was retired at 2026-11-02T09:00:00.000Z: send only the form hashed with the current key (drop --previous-key-id)' }
 */
export async function retiredKeyRefusals(signals: Signal[], keys: RetiredKeyIds): Promise<Map<number, string>> {
  const keyIds = signals.flatMap((signal) => (signal.keyId === undefined ? [] : [signal.keyId]));
  const refusals = new Map<number, string>();
  if (keyIds.length === 0) return refusals;
  const retired = await keys.retiredKeyIds(keyIds);
  signals.forEach((signal, index) => {
    const retiredAt = signal.keyId === undefined ? undefined : retired.get(signal.keyId);
    if (retiredAt !== undefined) {
      refusals.set(index, `hashing key id ${signal.keyId} was retired at ${retiredAt}: send only the form hashed with the current key (drop --previous-key-id)`);
    }
  });
  return refusals;
}
