import { describe, expect, it } from 'vitest';
import type { SignalType } from '../../../lib/contract/signals.js';
import { NormalisationError } from '../../../lib/client/errors.js';
import { normaliseIdentifier } from '../../../lib/client/normalise.js';

type Case = [raw: string, expected: string];

function table(type: SignalType, cases: Case[], options = {}) {
  it.each(cases)(`${type}: %j -> %j`, (raw, expected) => {
    expect(normaliseIdentifier(type, raw, options)).toBe(expected);
  });
}

function refuses(type: SignalType, cases: [raw: string, messagePart: RegExp][], options = {}) {
  it.each(cases)(`${type}: refuses %j`, (raw, messagePart) => {
    let caught: unknown;
    try {
      normaliseIdentifier(type, raw, options);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NormalisationError);
    expect((caught as NormalisationError).signalType).toBe(type);
    expect((caught as NormalisationError).status).toBe(400);
    expect((caught as Error).message).toMatch(messagePart);
  });
}

describe('Function: normaliseIdentifier', () => {
  describe('email', () => {
    table('email', [
      ['foo@example.com', 'foo@example.com'],
      ['  Foo@Example.COM  ', 'foo@example.com'],
      ['Foo.Bar+x@gmail.com', 'foobar@gmail.com'],
      ['f.o.o.b.a.r@gmail.com', 'foobar@gmail.com'],
      ['FOOBAR+spam+more@GMAIL.COM', 'foobar@gmail.com'],
      ['foo.bar@googlemail.com', 'foobar@gmail.com'],
      ['foobar@gmail.com.', 'foobar@gmail.com'],
      // The root's dot, written as IDNA writes a full stop in a CJK text, is dropped as the ASCII one is.
      ['foobar@gmail.com\u3002', 'foobar@gmail.com'],
      ['foobar@gmail.com\uff0e', 'foobar@gmail.com'],
      ['mailto:Foo.Bar@gmail.com', 'foobar@gmail.com'],
      ['"Foo Bar" <Foo.Bar+promo@gmail.com>', 'foobar@gmail.com'],
      ['Foo Bar <foo@example.org>', 'foo@example.org'],
      ['john.smith+shop@outlook.com', 'john.smith@outlook.com'],
      ['john.smith+shop@hotmail.co.uk', 'john.smith@hotmail.co.uk'],
      ['Jane.Doe+apple@iCloud.com', 'jane.doe@icloud.com'],
      ['user+tag@proton.me', 'user@proton.me'],
      ['user+tag@fastmail.com', 'user@fastmail.com'],
      ['ivan+spam@yandex.ru', 'ivan@yandex.ru'],
      // unknown providers: dots and +tags may be distinct mailboxes, so they stay
      ['first.last+tag@example.com', 'first.last+tag@example.com'],
      ['first.last@yahoo.com', 'first.last@yahoo.com'],
      ['user@münchen.de', 'user@xn--mnchen-3ya.de'],
      ['user@MÜNCHEN.DE', 'user@xn--mnchen-3ya.de'],
      ['Ünïcødé@example.com', 'ünïcødé@example.com'],
      ['o\'reilly@example.ie', 'o\'reilly@example.ie'],
      ['a@b.co', 'a@b.co'],
      // IDNA maps the ideographic, full-width and half-width full stops and full-width letters of a domain.
      ['foo@example\u3002com', 'foo@example.com'],
      ['foo@example\uff0ecom', 'foo@example.com'],
      ['foo@example\uff61com', 'foo@example.com'],
      ['foo@ＥＸＡＭＰＬＥ.com', 'foo@example.com'],
      // A full-width or small at sign, as a CJK input method types it, separates like `@`.
      ['foo\uff20example.com', 'foo@example.com'],
      ['foo\ufe6bexample.com', 'foo@example.com'],
      ['Foo.Bar\uff20GMAIL\u3002COM', 'foobar@gmail.com'],
    ]);
    refuses('email', [
      ['', /not an email address/],
      ['   ', /not an email address/],
      ['foo', /not an email address/],
      ['foo@', /not an email address/],
      ['@example.com', /not an email address/],
      ['foo bar@example.com', /character email addresses cannot carry/],
      // The refusal names the character, by code point too: some are invisible or look like ASCII.
      ['foo\u3002bar@example.com', /"\u3002" \(U\+3002\), a character email addresses cannot carry/],
      ['\u200bfoo@example.com', /\(U\+200B\)/],
      ['foo,bar@example.com', /"," \(U\+002C\)/],
      ['foo@localhost', /not a valid host name/],
      ['foo@192.168.0.1', /not a valid host name/],
      ['foo@exa mple.com', /not a valid host name/],
      ['foo@-example.com', /not a valid host name/],
      ['+tag@gmail.com', /no mailbox name/],
      ['...@gmail.com', /only dots/],
    ]);
  });

  describe('phone', () => {
    table('phone', [
      ['+44 20 7946 0958', '+442079460958'],
      ['+44 (0)20 7946 0958', '+442079460958'],
      ['0044 20 7946 0958', '+442079460958'],
      ['020 7946 0958', '+442079460958'],
      ['07400 123456', '+447400123456'],
      ['tel:+44-20-7946-0958', '+442079460958'],
      ['+1 (415) 555-2671', '+14155552671'],
      ['+1 415 555 2671 ext. 12', '+14155552671'],
      ['+14155552671', '+14155552671'],
      ['+49 30 123456', '+4930123456'],
      ['+33 6 12 34 56 78', '+33612345678'],
      ['＋４４ ２０ ７９４６ ０９５８', '+442079460958'],
      // Arabic-Indic and Eastern Arabic-Indic digits, as Arabic and Persian keyboards type them.
      ['\u0660\u0667\u0664\u0660\u0660 \u0661\u0662\u0663\u0664\u0665\u0666', '+447400123456'],
      ['+\u06f4\u06f4 \u06f7\u06f4\u06f0\u06f0 \u06f1\u06f2\u06f3\u06f4\u06f5\u06f6', '+447400123456'],
    ], { defaultRegion: 'GB' });
    table('phone', [
      ['(415) 555-2671', '+14155552671'],
      ['415.555.2671', '+14155552671'],
      ['1-415-555-2671', '+14155552671'],
    ], { defaultRegion: 'us' });
    // `00` is the international prefix, which carries the country code: no default region is needed,
    // and a region whose own international prefix differs (US: 011) does not make it unreadable.
    table('phone', [
      ['0044 20 7946 0958', '+442079460958'],
      ['001 415 555 2671', '+14155552671'],
      ['\u0660\u0660\u0664\u0664 \u0667\u0664\u0660\u0660 \u0661\u0662\u0663\u0664\u0665\u0666', '+447400123456'],
    ]);
    table('phone', [['0044 20 7946 0958', '+442079460958']], { defaultRegion: 'US' });
    refuses('phone', [
      ['020 7946 0958', /no country code.*--region/],
      ['hello', /no digits/],
      // Digits of a script libphonenumber does not read are refused, but not as "no digits".
      ['\u0966\u096d\u096a\u0966\u0966 \u0967\u0968\u0969\u096a\u096b\u096c', /digits of a script.*write them as 0-9/],
    ]);
    refuses('phone', [
      ['12', /not a valid phone number/],
      ['+1 555 555 5555', /not a valid phone number/],
      ['+999 1234 5678', /not a valid phone number/],
    ], { defaultRegion: 'GB' });
    refuses('phone', [['+442079460958', /default region "XX"/]], { defaultRegion: 'XX' });
  });

  describe('ip', () => {
    table('ip', [
      ['192.0.2.1', '192.0.2.1'],
      [' 192.0.2.1 ', '192.0.2.1'],
      ['192.000.002.001', '192.0.2.1'],
      ['192.0.2.1:8080', '192.0.2.1'],
      ['0.0.0.0', '0.0.0.0'],
      ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8::0:1', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['2001:DB8:AAAA:0:0:0:0:1', '2001:db8:aaaa::1'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['::', '::'],
      ['fe80::1%eth0', 'fe80::1'],
      ['[2001:db8::1]', '2001:db8::1'],
      ['[2001:db8::1]:443', '2001:db8::1'],
      ['::ffff:192.0.2.1', '192.0.2.1'],
      ['::FFFF:C000:0201', '192.0.2.1'],
      ['0:0:0:0:0:ffff:192.0.2.1', '192.0.2.1'],
      ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
    ]);
    refuses('ip', [
      ['256.1.1.1', /0-255/],
      ['1.2.3', /not an IP address/],
      ['1::2::3', /not an IP address/],
      ['example.com', /not an IP address/],
      ['2001:db8::g', /not an IP address/],
      ['', /not an IP address/],
    ]);
  });

  describe('device', () => {
    table('device', [
      ['6F9619FF-8B86-D011-B42D-00C04FC964FF', '6f9619ff8b86d011b42d00c04fc964ff'],
      ['{6F9619FF-8B86-D011-B42D-00C04FC964FF}', '6f9619ff8b86d011b42d00c04fc964ff'],
      ['urn:uuid:6f9619ff-8b86-d011-b42d-00c04fc964ff', '6f9619ff8b86d011b42d00c04fc964ff'],
      ['6f9619ff8b86d011b42d00c04fc964ff', '6f9619ff8b86d011b42d00c04fc964ff'],
      ['  9774D56D682E549C ', '9774d56d682e549c'],
      ['35-209900-176148-1', '352099001761481'],
      ['35 209900 176148 1', '352099001761481'],
      ['Pixel-7-abc', 'pixel-7-abc'],
    ]);
    refuses('device', [
      ['00000000-0000-0000-0000-000000000000', /all zeros/],
      ['{00000000-0000-0000-0000-000000000000}', /all zeros/],
      ['   ', /is empty/],
      ['- -', /no digits or letters/],
    ]);
  });

  describe('username', () => {
    table('username', [
      ['john_doe', 'johndoe'],
      ['John.Doe', 'johndoe'],
      ['@John-Doe', 'johndoe'],
      ['  john doe  ', 'johndoe'],
      ['＠ＪｏｈｎＤｏｅ', 'johndoe'],
      ['john\u200bdoe', 'johndoe'],
      ['Straße', 'strasse'],
      ['STRAẞE', 'strasse'],
      ['ΣΊΣΥΦΟΣ', 'σίσυφοσ'],
      ['ﬁona', 'fiona'],
      ['user①', 'user1'],
      ['@@xX_Dark.Lord_Xx', 'xxdarklordxx'],
    ]);
    refuses('username', [
      ['@', /is empty/],
      ['._-', /is empty/],
      ['@ @', /is empty/],
    ]);
  });

  describe('payment', () => {
    table('payment', [
      ['4111 1111 1111 1111', '4111111111111111'],
      ['4111-1111-1111-1111', '4111111111111111'],
      ['gb82 west 1234 5698 7654 32', 'GB82WEST12345698765432'],
      ['DE89370400440532013000', 'DE89370400440532013000'],
      [' Xt5EWLLDS7FJjR1c ', 'Xt5EWLLDS7FJjR1c'],
      // NFKC folds full-width digits and the no-break spaces a copied card number carries.
      ['４１１１ １１１１ １１１１ １１１１', '4111111111111111'],
      ['4111\u00a01111\u00a01111\u00a01111', '4111111111111111'],
      ['4111\u202f1111\u202f1111\u202f1111', '4111111111111111'],
      ['GB82\u00a0WEST\u00a01234\u00a05698\u00a07654\u00a032', 'GB82WEST12345698765432'],
    ]);
    refuses('payment', [
      ['4111 1111 1111 1112', /Luhn/],
      ['4111 1111 1111 1111 1111 1111 1', /12-19 digits/],
      ['1234', /Luhn/],
      ['', /is empty/],
    ]);
  });

  describe('photo_pdq', () => {
    table('photo_pdq', [
      ['F'.repeat(64), 'f'.repeat(64)],
      [` ${'a1'.repeat(32)} `, 'a1'.repeat(32)],
    ]);
    refuses('photo_pdq', [
      ['abc', /64 hex characters, got 3/],
      ['z'.repeat(64), /64 hex characters/],
    ]);
  });
});
