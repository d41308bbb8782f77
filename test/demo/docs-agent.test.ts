import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  NO_MATCH_REPLY,
  citation,
  createDocsAgent,
  readDocs,
  splitSections,
  type ChatMessage,
  type DocSection,
  type DocsAgent,
} from '../../demo/docs-agent';

/** A small doc of our own, so README edits never break these tests. */
const GUIDE = [
  '# Acme Widget',
  '',
  'Acme Widget is a tiny chat bubble for your pages.',
  '',
  '## Installation',
  '',
  'Install it from npm and add one line to your page.',
  '',
  '```sh',
  '# install from npm (a comment, not a heading)',
  'npm install acme-widget',
  '```',
  '',
  'Then paste the script tag before the closing body tag.',
  '',
  '## Theming',
  '',
  'Colours come from CSS custom properties. Dark mode follows the system setting.',
  '',
  '```css',
  'acme-widget { --acme-accent: teal; }',
  '```',
  '',
  '### Fonts',
  '',
  'Set `--acme-font` to change the font family.',
  '',
  '## Security',
  '',
  'The widget needs no `unsafe-inline`. Add your API origin to `connect-src` in your Content-Security-Policy.',
  '',
  '- Links are limited to http and https.',
  '- Raw <b>HTML</b> is shown as text, see [Theming](#theming).',
  '',
  '## Options',
  '',
  '| attribute | meaning | default |',
  '| --- | --- | --- |',
  '| `data-theme` | `light` or `dark` | `auto` |',
  '| `data-title` | panel title | `Ask` |',
  '| `data-position` | `left` or `right` | `right` |',
  '| `data-open` | opens the panel at load | closed |',
  '',
  '## Changelog',
  '',
  // One long paragraph of many sentences, to exercise the length budget.
  Array.from({ length: 40 }, (_, i) => `Release ${i + 1} improved the changelog rendering of version notes.`).join(' '),
].join('\n');

const ask = (agent: DocsAgent, question: string, history: ChatMessage[] = []) =>
  agent.answer([...history, { role: 'user', content: question }]);

/** The `- …` lines after `Sources:`. */
function sources(answer: string): string[] {
  const at = answer.lastIndexOf('\nSources:\n');
  if (at < 0) return [];
  return answer.slice(at + '\nSources:\n'.length).split('\n').map((line) => line.replace(/^- /, ''));
}

/** Every fenced block of an answer. */
function fences(answer: string): string[] {
  return answer.match(/^```[^\n]*\n[\s\S]*?\n```$/gm) ?? [];
}

/** The answer without fences and inline code: what a markdown renderer would treat as prose. */
function prose(answer: string): string {
  return answer.replace(/^```[^\n]*\n[\s\S]*?\n```$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Structural markdown checks: fences closed, code spans closed on every prose line, no raw HTML. */
function expectValidMarkdown(answer: string): void {
  expect(answer.split('\n').filter((line) => /^(```|~~~)/.test(line)).length % 2).toBe(0);
  for (const line of answer.replace(/^```[^\n]*\n[\s\S]*?\n```$/gm, '').split('\n')) {
    expect((line.match(/`/g) ?? []).length % 2, `unbalanced code span in: ${line}`).toBe(0);
  }
  expect(prose(answer)).not.toMatch(/<\/?[a-z][^>]*>/i);
}

describe('splitSections', () => {
  const sections = splitSections(GUIDE, 'guide');

  it('makes one section per heading, cited by its heading path below the document H1', () => {
    expect(sections.map(citation)).toEqual([
      'guide › Acme Widget',
      'guide › Installation',
      'guide › Theming',
      'guide › Theming › Fonts',
      'guide › Security',
      'guide › Options',
      'guide › Changelog',
    ]);
  });

  it('keeps fenced code (and a # line inside it) with its section, and records the first fence', () => {
    const install = sections.find((s) => s.path.at(-1) === 'Installation')!;
    expect(install.body).toContain('# install from npm (a comment, not a heading)');
    expect(install.body).toContain('Then paste the script tag');
    expect(install.code).toBe('```sh\n# install from npm (a comment, not a heading)\nnpm install acme-widget\n```');
    expect(sections.find((s) => s.path.at(-1) === 'Security')!.code).toBeUndefined();
  });

  it('handles CRLF, documents without an H1, empty sections, ~~~ fences and an unclosed fence', () => {
    const doc = '## A\r\n\r\n## B\r\nText b\r\n~~~\r\n## not a heading\r\n~~~\r\n### C\r\n```js\r\nlet x;\r\n';
    const split = splitSections(doc, 'notes');
    expect(split.map(citation)).toEqual(['notes › B', 'notes › B › C']);
    expect(split[0]!.code).toBe('~~~\n## not a heading\n~~~');
    expect(split[1]!.code).toBe('```js\nlet x;\n```');
  });
});

describe('docs agent on a fixture doc', () => {
  const agent = createDocsAgent([{ name: 'guide', markdown: GUIDE }]);

  it('answers an install question from the install section, with its code example', () => {
    const answer = ask(agent, 'How do I install it?');
    expect(answer.split('\n')[0]).toMatch(/^Here is what the codegpt-widget docs say about \*\*Installation\*\*/);
    expect(sources(answer)[0]).toBe('guide › Installation');
    expect(answer).toContain('Install it from npm and add one line to your page.');
    expect(fences(answer)).toEqual(['```sh\n# install from npm (a comment, not a heading)\nnpm install acme-widget\n```']);
    expectValidMarkdown(answer);
  });

  it('answers theming questions with the CSS example; synonyms reach the section ("colors", "dark mode")', () => {
    for (const question of ['How do I change the colors?', 'what about dark mode?']) {
      const answer = ask(agent, question);
      expect(sources(answer)).toContain('guide › Theming');
      expect(fences(answer)).toContain('```css\nacme-widget { --acme-accent: teal; }\n```');
    }
  });

  it('a CSP question cites Security; tag-like text becomes code and in-page links plain text', () => {
    const answer = ask(agent, 'Is it safe under a strict CSP?');
    expect(sources(answer)[0]).toBe('guide › Security');
    expect(answer).toContain('Raw `<b>`HTML`</b>` is shown as text, see Theming.');
    expect(answer).not.toContain('](#');
    expect(fences(answer)).toEqual([]); // the section has no code, and no other section was needed
    expectValidMarkdown(answer);
  });

  it('quotes only the table rows that match, as bullets', () => {
    const answer = ask(agent, 'Which option sets the dark theme?');
    expect(sources(answer)).toContain('guide › Options');
    expect(answer).toContain('- `data-theme` — meaning: `light` or `dark`; default: `auto`');
    expect(answer).not.toContain('data-position');
  });

  it('keeps the prose within about 900 characters, cut at a sentence boundary', () => {
    const answer = ask(agent, 'What is in the changelog?');
    expect(sources(answer)).toEqual(['guide › Changelog']);
    const passage = answer.split('\n\n')[1]!;
    expect(passage.length).toBeLessThanOrEqual(900);
    expect(passage.length).toBeGreaterThan(500);
    expect(passage).toMatch(/version notes\. …$/);
    expect(GUIDE).toContain(passage.slice(0, -2));
  });

  it('cites at most three sections, best first, all scoring near the best one', () => {
    const answer = ask(agent, 'theme colours fonts security install options changelog');
    expect(sources(answer).length).toBeLessThanOrEqual(3);
    expect(sources(answer).length).toBeGreaterThan(0);
  });

  it('says plainly when nothing matches: nonsense, stop-words only, fuzzy-only noise', () => {
    for (const question of ['What is the airspeed velocity of an unladen swallow?', 'zxqv blorp', 'what is it?', 'Why?', 'Instalation of acme']) {
      const answer = ask(agent, question);
      if (question.startsWith('Instalation')) {
        // A typo with a real topic word still finds the section (fuzzy 0.2 plus the exact "acme").
        expect(answer).not.toBe(NO_MATCH_REPLY);
      } else {
        expect(answer).toBe(NO_MATCH_REPLY);
      }
    }
    expect(NO_MATCH_REPLY).toContain("I couldn't find anything about that in the codegpt-widget docs.");
  });

  it('small talk gets a short friendly reply that points at example questions', () => {
    const greeting = ask(agent, 'hi');
    expect(greeting).toMatch(/^Hi!/);
    expect(greeting).toContain('How do I install it?');
    expect(ask(agent, 'Hello there!')).toBe(greeting);
    expect(ask(agent, 'thanks')).toMatch(/^You're welcome!/);
    expect(ask(agent, 'Thank you so much!')).toMatch(/^You're welcome!/);
    expect(ask(agent, 'ok bye')).toMatch(/^Bye!/);
    // A greeting with a real question is a question.
    expect(sources(ask(agent, 'hi, how do I install it?'))[0]).toBe('guide › Installation');
  });

  it('searches the last user message: a short follow-up switches topic', () => {
    const first = ask(agent, 'How do I install it?');
    const followUp = ask(agent, 'and what about dark mode?', [
      { role: 'user', content: 'How do I install it?' },
      { role: 'assistant', content: first },
    ]);
    expect(sources(followUp)[0]).toBe('guide › Theming');
    // Assistant and system messages after the question are not questions.
    expect(agent.answer([{ role: 'user', content: 'How do I install it?' }, { role: 'assistant', content: 'dark mode' }])).toBe(first);
  });

  it('is deterministic: same docs and question, same answer, also from a fresh index', () => {
    const again = createDocsAgent([{ name: 'guide', markdown: GUIDE }]);
    for (const question of ['How do I install it?', 'dark mode', 'Is it safe under CSP?', 'options', 'hi']) {
      expect(ask(agent, question)).toBe(ask(agent, question));
      expect(ask(again, question)).toBe(ask(agent, question));
    }
  });

  it('an agent without docs answers that it found nothing', () => {
    expect(ask(createDocsAgent([]), 'How do I install it?')).toBe(NO_MATCH_REPLY);
  });
});

describe('docs agent on the real README (smoke)', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const docs = readDocs(root);
  const agent = createDocsAgent(docs);
  const byCitation = new Map(agent.sections.map((s) => [citation(s), s] as [string, DocSection]));

  /** Asks, checks the shape, and returns the cited sections. */
  function check(question: string, heading: RegExp): DocSection[] {
    const answer = ask(agent, question);
    expectValidMarkdown(answer);
    const cited = sources(answer).map((c) => byCitation.get(c));
    expect(cited.length, answer).toBeGreaterThan(0);
    expect(cited.every((s) => s !== undefined), answer).toBe(true);
    expect(cited.some((s) => heading.test(s!.path.join(' '))), `${question} → ${sources(answer).join(', ')}`).toBe(true);
    // The first example of a cited section with code is in the answer.
    const withCode = cited.find((s) => s!.code !== undefined);
    if (withCode) expect(fences(answer)).toContain(withCode.code);
    else expect(fences(answer)).toEqual([]);
    return cited as DocSection[];
  }

  it('reads README.md first and cites it as README › …', () => {
    expect(docs[0]?.name).toBe('README');
    expect(agent.sections.some((s) => s.path[0] === 'README' && s.path.length >= 2)).toBe(true);
  });

  it.each([
    ['How do I install it?', /install|script tag|quick start|getting started/i],
    ['Is it safe under CSP?', /content-security-policy|csp/i],
    ['How do I change the theme?', /them/i],
    ['How does the token endpoint work?', /token/i],
  ])('%s → cites a matching README section, with its code example', (question, heading) => {
    check(question, heading);
  });

  it('the theming answer carries the theming CSS example', () => {
    const cited = check('How do I change the theme?', /them/i);
    expect(cited.find((s) => s.code !== undefined)?.code).toMatch(/^```/);
  });

  it('nonsense gets the plain "couldn\'t find" reply', () => {
    expect(ask(agent, 'What is the airspeed velocity of an unladen swallow?')).toBe(NO_MATCH_REPLY);
  });
});
