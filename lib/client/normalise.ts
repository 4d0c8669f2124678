/**
 * Normalisation: the one canonical form of each kind of raw identifier, so that the same
 * person's identifier hashes to the same value on every platform. Every rule here is part of the
 * consortium's agreement: changing one changes hashes, so it needs a hashing-key rotation
 * (docs/client.md lists the rules and the reasons).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import type { SignalType } from '../contract/signals.js';
import { NormalisationError } from './errors.js';

/** Options that change how ambiguous raw values are read. */
export interface NormaliseOptions {
  /**
   * ISO 3166-1 alpha-2 region (e.g. `GB`) used for phone numbers written without a country code.
   * Without it such numbers are refused rather than guessed.
   */
  defaultRegion?: string;
}

/**
 * The canonical form of one raw identifier of the given type.
 *
 * @throws NormalisationError when the value cannot be read as that type.
 * @example
 * normaliseIdentifier('email', ' Foo.Bar+news@GoogleMail.com ') // 'foobar@gmail.com'
 * normaliseIdentifier('phone', '020 7946 0958', { defaultRegion: 'GB' }) // '+442079460958'
 * normaliseIdentifier('ip', '::FFFF:192.0.2.1') // '192.0.2.1'
 */
export function normaliseIdentifier(type: SignalType, raw: string, options: NormaliseOptions = {}): string {
  if (typeof raw !== 'string') throw new NormalisationError(type, `must be a string, got ${typeof raw}`);
  switch (type) {
    case 'email':
      return normaliseEmail(raw);
    case 'phone':
      return normalisePhone(raw, options.defaultRegion);
    case 'ip':
      return normaliseIp(raw);
    case 'device':
      return normaliseDeviceId(raw);
    case 'username':
      return normaliseUsername(raw);
    case 'payment':
      return normalisePaymentInstrument(raw);
    case 'photo_pdq':
      return normalisePdqHash(raw);
  }
}

// ---------------------------------------------------------------------------------------------
// Email

/** How one mailbox provider folds addresses that reach the same mailbox. */
export interface EmailProviderRule {
  /** The domain all of this provider's alias domains fold to. */
  canonicalDomain?: string;
  /** The provider ignores dots in the local part. */
  ignoresDots?: boolean;
  /** The provider delivers `name<separator>anything` to `name` (sub-addressing). */
  tagSeparator?: '+';
}

const PLUS_TAGS: EmailProviderRule = { tagSeparator: '+' };

/**
 * Providers whose folding rules are documented. Only these get more than lowercasing: on an
 * unknown domain `a+b@` and `a@` may well be different people, so the `+` part is kept.
 */
export const EMAIL_PROVIDER_RULES: Readonly<Record<string, EmailProviderRule>> = {
  'gmail.com': { ignoresDots: true, tagSeparator: '+' },
  'googlemail.com': { canonicalDomain: 'gmail.com', ignoresDots: true, tagSeparator: '+' },
  'outlook.com': PLUS_TAGS,
  'hotmail.com': PLUS_TAGS,
  'hotmail.co.uk': PLUS_TAGS,
  'hotmail.fr': PLUS_TAGS,
  'live.com': PLUS_TAGS,
  'msn.com': PLUS_TAGS,
  'icloud.com': PLUS_TAGS,
  'me.com': PLUS_TAGS,
  'mac.com': PLUS_TAGS,
  'fastmail.com': PLUS_TAGS,
  'fastmail.fm': PLUS_TAGS,
  'proton.me': PLUS_TAGS,
  'protonmail.com': PLUS_TAGS,
  'protonmail.ch': PLUS_TAGS,
  'pm.me': PLUS_TAGS,
  'yandex.ru': PLUS_TAGS,
  'yandex.com': PLUS_TAGS,
  'ya.ru': PLUS_TAGS,
};

const EMAIL_HINT = 'expected local-part@domain, e.g. name@example.com';
// RFC 5322 atext plus dots, and any letter or digit for internationalised (EAI) local parts.
const LOCAL_PART = /^[\p{L}\p{N}\p{M}!#$%&'*+/=?^_`{|}~.-]+$/u;
const DOMAIN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Email: trim, unwrap `mailto:` and `Name <addr>`, full-width and small at signs to `@`, lowercase,
 * IDN domains to punycode, then the provider's own folding from {@link EMAIL_PROVIDER_RULES}.
 *
 * @example
 * normaliseEmail('Foo.Bar+x@gmail.com') // 'foobar@gmail.com'
 */
export function normaliseEmail(raw: string): string {
  let text = raw.normalize('NFC').trim();
  const bracketed = /<([^<>]+)>\s*$/.exec(text);
  if (bracketed) text = bracketed[1].trim();
  // A CJK input method types the full-width (U+FF20) or small (U+FE6B) at sign: both separate like
  // `@` (NFKC maps them to it), and no address can carry them, so nothing accepted reads differently.
  text = text.replace(/^mailto:/i, '').replace(/[\uff20\ufe6b]/g, '@').toLowerCase();
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) throw new NormalisationError('email', `not an email address: ${EMAIL_HINT}`);
  let local = text.slice(0, at);
  const rawDomain = text.slice(at + 1);
  if (!LOCAL_PART.test(local)) {
    // Named by code point as well: the culprit may be invisible (a zero-width space) or look like
    // ASCII (an ideographic full stop), and the person fixing the row must find it.
    const culprit = [...local].find((char) => !LOCAL_PART.test(char)) ?? '';
    const codePoint = `U+${(culprit.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    throw new NormalisationError('email', `the part before @ has "${culprit}" (${codePoint}), a character email addresses cannot carry: ${EMAIL_HINT}`);
  }
  // The root's trailing dot is dropped once IDNA has mapped `。`, `．` and `｡` to `.`, so that it
  // goes whichever full stop wrote it.
  const domain = domainToASCII(rawDomain).replace(/\.$/, '');
  const labels = domain.split('.');
  if (!domain || labels.length < 2 || !labels.every((label) => DOMAIN_LABEL.test(label)) || /^\d+$/.test(labels[labels.length - 1])) {
    throw new NormalisationError('email', `the domain "${rawDomain}" is not a valid host name: ${EMAIL_HINT}`);
  }
  const rule = EMAIL_PROVIDER_RULES[domain];
  if (rule?.tagSeparator) {
    const cut = local.indexOf(rule.tagSeparator);
    if (cut === 0) throw new NormalisationError('email', `the address has a ${rule.tagSeparator}tag but no mailbox name before it: ${EMAIL_HINT}`);
    if (cut > 0) local = local.slice(0, cut);
  }
  if (rule?.ignoresDots) {
    local = local.replaceAll('.', '');
    if (!local) throw new NormalisationError('email', `the mailbox name is only dots: ${EMAIL_HINT}`);
  }
  return `${local}@${rule?.canonicalDomain ?? domain}`;
}

// ---------------------------------------------------------------------------------------------
// Phone

/**
 * Phone: E.164 (`+` and digits) via libphonenumber-js's full metadata; the number must be valid
 * for its region, extensions are dropped. Full-width, Arabic-Indic and Persian digits read as 0-9.
 * A number without a country code needs `defaultRegion`.
 *
 * @example
 * normalisePhone('(415) 555-2671', 'US') // '+14155552671'
 */
export function normalisePhone(raw: string, defaultRegion?: string): string {
  const region = defaultRegion?.trim().toUpperCase();
  if (region !== undefined && !isSupportedCountry(region)) {
    throw new NormalisationError('phone', `default region "${defaultRegion}" is not an ISO 3166-1 alpha-2 code libphonenumber knows (e.g. GB, US, DE)`);
  }
  const text = arabicIndicToAscii(raw.normalize('NFKC').trim());
  if (!/\d/.test(text)) {
    throw new NormalisationError(
      'phone',
      /\p{Nd}/u.test(text) ? 'not a phone number it can read: it has digits of a script other than 0-9, full-width, Arabic-Indic or Persian: write them as 0-9' : 'not a phone number: it has no digits',
    );
  }
  let parsed = parsePhoneNumberFromString(text, region ? { defaultCountry: region as CountryCode } : undefined);
  // `00` is the international prefix in most of the world, but libphonenumber reads it as one only
  // for a default region whose own prefix it is: without a region (or in the US, 011) it fails.
  if (!parsed?.isValid() && /^\s*00\s*[1-9]/.test(text)) {
    const international = parsePhoneNumberFromString(text.replace(/^\s*00/, '+'));
    if (international?.isValid()) parsed = international;
  }
  if (!parsed) {
    const hasCountryCode = /^(tel:)?\s*(\+|00)/i.test(text);
    throw new NormalisationError(
      'phone',
      hasCountryCode || region
        ? 'not a valid phone number: check the digits and the country code'
        : 'has no country code: write it as +<country code><number>, or give a default region (--region / CROSSLINK_DEFAULT_REGION)',
    );
  }
  if (!parsed.isValid()) {
    throw new NormalisationError('phone', `not a valid phone number for region ${parsed.country ?? `+${parsed.countryCallingCode}`}: check the digits and the country code`);
  }
  return parsed.number;
}

/**
 * Arabic-Indic (U+0660-0669) and Eastern Arabic-Indic (U+06F0-06F9) digits as 0-9. libphonenumber-js
 * reads these two (NFKC has folded the full-width ones) but the checks around it read only 0-9: a
 * number typed on an Arabic or Persian keyboard was refused as having no digits.
 */
function arabicIndicToAscii(text: string): string {
  return text.replace(/[\u0660-\u0669\u06f0-\u06f9]/g, (digit) => String(digit.charCodeAt(0) - (digit >= '\u06f0' ? 0x06f0 : 0x0660)));
}

// ---------------------------------------------------------------------------------------------
// IP addresses

/**
 * IP address: IPv4 as four decimal octets (leading zeros read as decimal padding), IPv6 in the
 * RFC 5952 text form (lowercase, no leading zeros, the longest zero run as `::`), IPv4-mapped
 * IPv6 (`::ffff:a.b.c.d`) as the IPv4 address it carries. Brackets, a port and an IPv6 zone
 * (`%eth0`, meaningful only on the host that wrote it) are dropped.
 *
 * @example
 * normaliseIp('2001:0DB8:0000:0000:0000:0000:0000:0001') // '2001:db8::1'
 */
export function normaliseIp(raw: string): string {
  let text = raw.trim();
  const bracketed = /^\[([^\]]+)\](:\d{1,5})?$/.exec(text);
  if (bracketed) text = bracketed[1];
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(text);
  if (v4WithPort) text = v4WithPort[1];
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return canonicalIpv4(text);
  text = text.replace(/%[^%]+$/, '');
  if (!isIPv6(text)) {
    throw new NormalisationError('ip', 'not an IP address: expected IPv4 dotted decimal (192.0.2.1) or IPv6 (2001:db8::1)');
  }
  // The WHATWG URL host serialiser implements RFC 5952's compression exactly; isIPv6 vetted the input.
  const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const high = parseInt(mapped[1], 16);
    const low = parseInt(mapped[2], 16);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return canonical;
}

function canonicalIpv4(text: string): string {
  const octets = text.split('.').map((part) => Number.parseInt(part, 10));
  if (octets.some((octet) => octet > 255)) throw new NormalisationError('ip', 'not an IPv4 address: each of the four numbers must be 0-255');
  const canonical = octets.join('.');
  if (!isIPv4(canonical)) throw new NormalisationError('ip', 'not an IPv4 address');
  return canonical;
}

// ---------------------------------------------------------------------------------------------
// Device ids

const UUID_LIKE = /^(?:urn:uuid:)?\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/;

/**
 * Device id: trim and lowercase. UUID-like ids (IDFA, IDFV, Windows GUIDs, `urn:uuid:`) become 32
 * hex digits without braces or dashes; ids made only of digits and separators (IMEI, MEID
 * written `35-209900-176148-1`) become the digits. All-zero ids are refused: they are what an OS
 * hands out when tracking is limited, shared by millions of devices, not an identifier.
 *
 * @example
 * normaliseDeviceId('{6F9619FF-8B86-D011-B42D-00C04FC964FF}') // '6f9619ff8b86d011b42d00c04fc964ff'
 */
export function normaliseDeviceId(raw: string): string {
  const text = raw.normalize('NFKC').trim().toLowerCase();
  if (!text) throw new NormalisationError('device', 'is empty: send the device identifier');
  const uuid = UUID_LIKE.exec(text);
  let canonical = text;
  if (uuid) canonical = uuid.slice(1).join('');
  else if (/^[\d\s-]+$/.test(text)) canonical = text.replace(/[\s-]/g, '');
  if (!canonical) throw new NormalisationError('device', 'has no digits or letters: send the device identifier');
  if (/^[0\s:-]+$/.test(canonical)) {
    throw new NormalisationError('device', 'is all zeros: that is the placeholder an OS returns when tracking is limited, not a device identifier; leave the signal out');
  }
  return canonical;
}

// ---------------------------------------------------------------------------------------------
// Usernames

// Dots, underscores, dashes, whitespace and invisible format characters (zero-width joiners, BOM).
const USERNAME_SEPARATORS = /[\s._\-\p{Cf}]/gu;

/**
 * Username: Unicode NFKC (full-width and compatibility forms fold to plain ones), full case
 * folding (ß to ss), leading `@` removed, separators `.`, `_`, `-`, whitespace and invisible
 * format characters removed: `John_Doe`, `john.doe` and `＠ＪｏｈｎＤｏｅ` are one name.
 *
 * @example
 * normaliseUsername('@John_Doe') // 'johndoe'
 */
export function normaliseUsername(raw: string): string {
  let canonical = raw;
  // Removing a separator can bring a combining mark next to a new base letter, which NFKC then
  // composes differently: repeat until the form is stable, so that normalising twice changes nothing.
  for (let round = 0; round < 4; round += 1) {
    const next = caseFold(canonical.normalize('NFKC')).replace(USERNAME_SEPARATORS, '').replace(/^@+/, '').normalize('NFKC');
    if (next === canonical) break;
    canonical = next;
  }
  if (!canonical) throw new NormalisationError('username', 'is empty once separators (. _ - spaces) are removed: send the username');
  return canonical;
}

/**
 * Unicode full case folding, approximated: upper then lower case (ß -> SS -> ss) until nothing
 * changes (capital ẞ lowers to ß, which needs a second round), and the final sigma to σ, which
 * toLowerCase keeps apart at the end of a word.
 */
function caseFold(text: string): string {
  let folded = text;
  for (let round = 0; round < 3; round += 1) {
    const next = folded.toUpperCase().toLowerCase().replaceAll('ς', 'σ').normalize('NFKC');
    if (next === folded) break;
    folded = next;
  }
  return folded;
}

// ---------------------------------------------------------------------------------------------
// Payment instruments and PDQ hashes

/**
 * Payment instrument: card numbers (12-19 digits, spaces and dashes allowed) become their digits
 * and must pass the Luhn check; IBANs become uppercase without spaces; anything else (a
 * processor's card fingerprint, a wallet token) is an opaque, case-sensitive id and is only
 * trimmed.
 *
 * @example
 * normalisePaymentInstrument('4111 1111 1111 1111') // '4111111111111111'
 */
export function normalisePaymentInstrument(raw: string): string {
  const text = raw.normalize('NFKC').trim();
  if (!text) throw new NormalisationError('payment', 'is empty: send the payment instrument (card number, IBAN or processor fingerprint)');
  if (/^[\d\s-]+$/.test(text)) {
    const digits = text.replace(/[\s-]/g, '');
    if (digits.length < 12 || digits.length > 19 || !passesLuhn(digits)) {
      throw new NormalisationError('payment', 'looks like a card number but is not one (12-19 digits passing the Luhn check)');
    }
    return digits;
  }
  const compact = text.replace(/\s/g, '').toUpperCase();
  if (/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(compact) && isIban(compact)) return compact;
  return text;
}

function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

function isIban(compact: string): boolean {
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const value = /\d/.test(char) ? char : String(char.charCodeAt(0) - 55);
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

/**
 * PDQ hash: 64 hex characters (256 bits), lowercased; not hashed again, because near-duplicate
 * photos are matched on the PDQ bits themselves.
 *
 * @example
 * normalisePdqHash('F8F8...') // 'f8f8...'
 */
export function normalisePdqHash(raw: string): string {
  const text = raw.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new NormalisationError('photo_pdq', `must be a PDQ hash of 64 hex characters, got ${text.length} characters`);
  }
  return text;
}
