import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NormalisationError } from '../../../lib/client/errors.js';
import { normaliseIdentifier, normaliseIp } from '../../../lib/client/normalise.js';
import { SIGNAL_TYPES } from '../../../lib/contract/signals.js';

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((octets) => octets.join('.'));
const ipv6Groups = fc.array(fc.oneof(fc.constant(0), fc.nat(0xffff)), { minLength: 8, maxLength: 8 });

/** The eight groups of an IPv6 address, read independently of the code under test. */
function groupsOf(address: string): number[] {
  const [head, tail = ''] = address.includes('::') ? address.split('::') : [address, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = address.includes('::') && tail ? tail.split(':') : [];
  const zeros = address.includes('::') ? Array(8 - headGroups.length - tailGroups.length).fill('0') : [];
  return [...headGroups, ...zeros, ...tailGroups].map((group) => parseInt(group, 16));
}

describe('Property: normalisation', () => {
  it('is idempotent: a canonical form normalises to itself, for every type and any input', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SIGNAL_TYPES), fc.string({ unit: 'grapheme', maxLength: 40 }), (type, raw) => {
        let once: string;
        try {
          once = normaliseIdentifier(type, raw, { defaultRegion: 'GB' });
        } catch (error) {
          expect(error).toBeInstanceOf(NormalisationError);
          return;
        }
        expect(normaliseIdentifier(type, once, { defaultRegion: 'GB' })).toBe(once);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws anything but a NormalisationError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SIGNAL_TYPES), fc.string({ maxLength: 80 }), (type, raw) => {
        try {
          normaliseIdentifier(type, raw);
        } catch (error) {
          expect(error).toBeInstanceOf(NormalisationError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps every IPv4 address as it is', () => {
    fc.assert(
      fc.property(ipv4, (address) => {
        expect(normaliseIp(address)).toBe(address);
      }),
    );
  });

  it('writes every IPv6 address in RFC 5952 form holding the same eight groups', () => {
    fc.assert(
      fc.property(ipv6Groups, fc.boolean(), (groups, upper) => {
        const padded = groups.map((group) => group.toString(16).padStart(4, '0')).join(':');
        const canonical = normaliseIp(upper ? padded.toUpperCase() : padded);
        if (groups.slice(0, 6).join() === '0,0,0,0,0,65535') {
          expect(canonical).toBe([groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join('.'));
          return;
        }
        expect(groupsOf(canonical)).toEqual(groups);
        expect(canonical).toBe(canonical.toLowerCase());
        expect(canonical).not.toMatch(/(^|:)0[0-9a-f]/);
        expect(canonical.split('::').length).toBeLessThanOrEqual(2);
        // A lone zero group is never compressed, and no longer zero run is left uncompressed.
        const longestZeroRun = Math.max(0, ...groups.map((_, start) => groups.slice(start).findIndex((group) => group !== 0)).map((run, start) => (run === -1 ? 8 - start : run)));
        if (longestZeroRun >= 2) expect(canonical).toContain('::');
        else expect(canonical).not.toContain('::');
      }),
      { numRuns: 2000 },
    );
  });
});
