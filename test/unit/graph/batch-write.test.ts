/**
 * How batch writes are cut into calls: at most 25 items, and a few large items (a run's graph or tasks,
 * stored in parts of 350 KB) per call rather than 25.
 */
import { describe, expect, it } from 'vitest';
import { approximateBytes, CALL_BYTES, callsOf, type WriteRequest } from '../../../lib/graph/batch-write.js';

const put = (sk: string, bytes = 0): WriteRequest => ({ PutRequest: { Item: { pk: 'P', sk, ...(bytes > 0 ? { body: new Uint8Array(bytes) } : {}) } } });
const remove = (sk: string): WriteRequest => ({ DeleteRequest: { Key: { pk: 'P', sk } } });
const keys = (calls: WriteRequest[][]) => calls.flat().map((request) => ('PutRequest' in request ? request.PutRequest.Item.sk : request.DeleteRequest.Key.sk));

describe('Function: callsOf', () => {
  it('puts small items 25 to a call, in order, each once', () => {
    const requests = Array.from({ length: 60 }, (_, i) => (i % 7 === 0 ? remove(`k${i}`) : put(`k${i}`)));
    const calls = callsOf(requests);
    expect(calls.map((call) => call.length)).toEqual([25, 25, 10]);
    expect(keys(calls)).toEqual(requests.map((_, i) => `k${i}`));
  });

  it('puts large parts a few to a call, each call under the byte budget', () => {
    const parts = Array.from({ length: 26 }, (_, i) => put(`GRAPH#${i}`, 350_000));
    const calls = callsOf(parts);
    expect(calls.map((call) => call.length)).toEqual([4, 4, 4, 4, 4, 4, 2]);
    for (const call of calls) expect(call.reduce((sum, request) => sum + approximateBytes('PutRequest' in request ? request.PutRequest.Item : {}), 0)).toBeLessThanOrEqual(CALL_BYTES);
    expect(keys(calls)).toEqual(parts.map((_, i) => `GRAPH#${i}`));
  });

  it('sends an item larger than the budget alone, between the calls around it', () => {
    const calls = callsOf([put('a'), put('huge', CALL_BYTES + 1), put('b')]);
    expect(calls.map((call) => keys([call]))).toEqual([['a'], ['huge'], ['b']]);
  });
});

describe('Function: approximateBytes', () => {
  it('counts binary and string lengths, attribute names and nested values', () => {
    expect(approximateBytes({ pk: 'ab', body: new Uint8Array(10), members: ['xyz', 'q'], n: 5 })).toBe(2 + 2 + 4 + 10 + 7 + 4 + 1 + 8);
  });
});
