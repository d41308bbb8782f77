import { describe, expect, it } from 'vitest';
import { isRtl, pickLocale, unpack } from '../../widget/core/locales';
import PACKED from '../../widget/core/locale-packs.json';
import { en, type Strings } from '../../widget/core/strings';

const packs: Record<string, string> = PACKED;
const localeStrings = (lang: string): Strings => (Object.hasOwn(packs, lang) ? unpack(packs[lang]!) : en);

const LANGS = ['es', 'fr', 'de', 'pt', 'ja', 'zh', 'ar', 'he'];
const topKeys = Object.keys(en).filter((k) => k !== 'errors');
const errorKeys = Object.keys(en.errors);

/** Every [key, value] of a Strings table, errors as 'errors.<code>'. */
function flat({ errors, ...top }: Strings): [string, string][] {
  return [...Object.entries(top), ...Object.entries(errors).map(([c, e]): [string, string] => [`errors.${c}`, e])];
}

describe('built-in locales', () => {
  it('ships exactly the listed languages', () => {
    expect(Object.keys(PACKED).sort()).toEqual([...LANGS].sort());
  });

  describe.each(LANGS)('%s', (lang) => {
    const s = localeStrings(lang);
    const values = Object.fromEntries(flat(s));
    const english = Object.fromEntries(flat(en));

    it('packs one segment per key of en', () => {
      expect(packs[lang]!.split('|')).toHaveLength(topKeys.length + errorKeys.length);
    });

    it('has exactly the keys of en, errors included', () => {
      expect(Object.keys(s).sort()).toEqual(Object.keys(en).sort());
      expect(Object.keys(s.errors).sort()).toEqual([...errorKeys].sort());
    });

    it('translates every value', () => {
      for (const [key, value] of Object.entries(values)) {
        expect(typeof value, key).toBe('string');
        expect(value.trim(), key).not.toBe('');
        expect(value, key).toBe(value.trim());
        expect(value, key).not.toContain('|');
      }
      // A whole language left in English would pass the checks above.
      const same = Object.keys(values).filter((k) => values[k] === english[k]);
      expect(same.length).toBeLessThan(4);
    });

    it('keeps the ellipsis, the colon of image and the CSP directive', () => {
      for (const [key, value] of Object.entries(english)) {
        expect(values[key]!.includes('…'), key).toBe(value.includes('…'));
      }
      expect(s.image).toMatch(/:$/);
      expect(s.cspBlocked).toContain('(connect-src)');
    });

    it('is not en and is a fresh table', () => {
      expect(s).not.toBe(en);
      expect(s.errors).not.toBe(en.errors);
      expect(s.title).not.toBe(en.title);
      expect(s.errors.bad_response).not.toBe(en.errors.bad_response);
    });
  });

  it('returns en for en and for unknown languages', () => {
    expect(localeStrings('en')).toBe(en);
    expect(localeStrings('ko')).toBe(en);
    expect(localeStrings('')).toBe(en);
    expect(localeStrings('constructor')).toBe(en);
    expect(localeStrings('__proto__')).toBe(en);
  });

  it('maps values by position in key order', () => {
    expect(localeStrings('es').title).toBe('Pregunta a la IA');
    expect(localeStrings('es').clear).toBe('Borrar conversación');
    expect(localeStrings('de').errors.config).toBe('Der Chat ist auf dieser Seite nicht richtig eingerichtet.');
    expect(localeStrings('fr').errors.bad_response).toBe("L'assistant a envoyé une réponse que le chat n'a pas pu lire.");
  });
});

describe('pickLocale', () => {
  it('matches the requested locale by its primary subtag', () => {
    expect(pickLocale('pt-BR', [])).toBe('pt');
    expect(pickLocale('zh-TW', [])).toBe('zh');
    expect(pickLocale('ZH_cn', [])).toBe('zh');
    expect(pickLocale(' fr ', [])).toBe('fr');
    expect(pickLocale('iw', [])).toBe('he');
    expect(pickLocale('iw-IL', ['en'])).toBe('he');
    expect(pickLocale('ar', ['de'])).toBe('ar');
  });

  it('a supported requested locale wins over the browser', () => {
    expect(pickLocale('en-GB', ['fr'])).toBe('en');
    expect(pickLocale('ja', ['fr', 'de'])).toBe('ja');
  });

  it('an unsupported or empty request falls through to the browser languages', () => {
    expect(pickLocale('ko', ['de-AT'])).toBe('de');
    expect(pickLocale('ko', ['ko-KR', 'it', 'es-419', 'fr'])).toBe('es');
    expect(pickLocale('', ['pt-PT'])).toBe('pt');
    expect(pickLocale('  ', ['he-IL'])).toBe('he');
    expect(pickLocale(undefined, ['zh-Hant-TW'])).toBe('zh');
  });

  it('falls back to en', () => {
    expect(pickLocale(undefined, [])).toBe('en');
    expect(pickLocale('ko', ['ru', 'it'])).toBe('en');
    expect(pickLocale('constructor', ['__proto__', 'toString'])).toBe('en');
    expect(pickLocale('-', ['_'])).toBe('en');
  });
});

describe('isRtl', () => {
  it('is true only for ar and he', () => {
    expect(isRtl('ar')).toBe(true);
    expect(isRtl('he')).toBe(true);
    for (const lang of ['en', 'es', 'fr', 'de', 'pt', 'ja', 'zh', 'ko', '']) expect(isRtl(lang)).toBe(false);
  });
});
