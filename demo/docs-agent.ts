/**
 * The offline docs agent: answers questions about codegpt-widget from the project's own markdown
 * (README.md and `docs/**.md`), so the demo gives real, useful answers with no API key and no network.
 * The demo server plugs it into the local CodeGPT-compatible API through the mock's `answer` hook
 * (codegpt-api.md section 8 stays the wire contract; this only decides the reply text).
 *
 * 1. Index: each markdown file is split on its headings; a section is its heading path plus its body,
 *    fenced code included (a `#` inside a fence is not a heading). MiniSearch (BM25+) indexes
 *    `title` (the headings, boosted) and `text`, with stop-words removed.
 * 2. Search: the last user message only (a short follow-up such as "and the ESM one?" still names its
 *    topic), plus a few synonyms at half weight ("big" → size, "dark" → theming), OR-combined, with
 *    prefix and 0.2 fuzzy matching; sections scoring at least 50 % of the best one are kept (max 3).
 * 3. Answer: a lead sentence, the passages of those sections that mention the question's terms
 *    (about 900 characters, cut at sentence or item boundaries), the first fenced example of the best
 *    section that has one, and a `Sources:` list (`README › Section › Subsection`).
 *
 * Deterministic: no clock and no randomness, so the same docs and question give the same answer.
 * The answer is markdown with no raw HTML: tag-like text outside code is wrapped in a code span.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import MiniSearch, { type SearchResult } from 'minisearch';

/** One markdown document to index. */
export interface DocSource {
  /** Label used in citations: `README`, `docs/broker` (the path without `.md`). */
  name: string;
  markdown: string;
}

/** One indexed section. */
export interface DocSection {
  /** Citation path: the document label, then the headings (the document's own H1 is left out below it). */
  path: string[];
  /** The section's markdown without its heading line, trimmed. */
  body: string;
  /** The first fenced code block of the body, fence lines included. */
  code: string | undefined;
}

/** A chat message as the API receives it (codegpt-api.md section 8.3). */
export interface ChatMessage {
  role: string;
  content: string;
}

/** The agent: one reply per conversation. */
export interface DocsAgent {
  /** The markdown reply to the conversation's last user message. */
  answer(messages: readonly ChatMessage[]): string;
  /** What is indexed (read-only; for tests and diagnostics). */
  readonly sections: readonly DocSection[];
}

/** Sent when nothing in the docs matches. */
export const NO_MATCH_REPLY =
  "I couldn't find anything about that in the codegpt-widget docs. Try asking about installation, the script tag, " +
  'options, theming, CSP or the token broker.';

const EXAMPLES = '“How do I install it?”, “Is it safe under CSP?” or “How do I change the theme?”';
const GREETING_REPLY = `Hi! I answer questions about codegpt-widget from its documentation. Try ${EXAMPLES}.`;
const THANKS_REPLY = `You're welcome! Ask me anything else about codegpt-widget, for example ${EXAMPLES}.`;
const BYE_REPLY = 'Bye! Come back any time you have a question about codegpt-widget.';

/** Keep sections scoring at least this share of the best one. */
const RELATIVE_THRESHOLD = 0.5;
const MAX_SECTIONS = 3;
/** Prose budget of an answer (the code example and the sources come on top). */
const TEXT_BUDGET = 900;
/** A section whose remaining budget is below this contributes no passage (it is still cited). */
const MIN_PASSAGE = 120;
/** Longest code example, in lines. */
const MAX_CODE_LINES = 24;
/** Only this much of a question is searched: enough for any real question, cheap for fuzzy matching. */
const MAX_QUESTION_CHARS = 400;
const MAX_QUERY_TERMS = 12;
/** Weight of a synonym next to a word the visitor actually typed. */
const SYNONYM_WEIGHT = 0.5;

/* Common English words, question words, and filler that says nothing about the topic. */
const STOP_WORDS = new Set(
  (
    'a about above after again all also am an and any anything are as at be because been being both but by can ' +
    'could did do does doing done each else even for from further get gets getting got had has have having he her ' +
    'here hers him his how i if in into is it its itself just let lets like make me more most much my need needs no ' +
    'nor not now of off on once one ones only or other our ours out over own please really same she should so some ' +
    'something such tell than that the their them then there these they thing things this those through to too try ' +
    'under until up us use used using very want was way we well were what whats when where which while who whom why ' +
    'will with would yes you your yours explain show know okay ok'
  ).split(' '),
);

/* Words of greetings and thanks; a message made only of these is small talk. */
const GREETING_WORDS = new Set('hi hello hey hiya howdy yo there morning afternoon evening good day all folks bot'.split(' '));
const THANKS_WORDS = new Set('thanks thank thx ty you so much a lot cheers great awesome nice cool perfect ok okay very'.split(' '));
const BYE_WORDS = new Set('bye goodbye see you later cya ciao thanks thank for ok okay'.split(' '));

/**
 * Topic words a visitor uses that the docs may not (question word → docs words). The synonyms are
 * searched at {@link SYNONYM_WEIGHT}; the visitor's own word keeps full weight.
 */
const SYNONYM_GROUPS: [string, string][] = [
  ['install installing installation installed setup embed embedding paste add adding started', 'install script tag npm'],
  ['big size large heavy small tiny weight kb bytes footprint budget', 'size gzip budget tiny'],
  ['csp policy', 'content security policy nonce'],
  ['safe secure security xss injection sanitize sanitized untrusted', 'security safe untrusted html'],
  ['theme themes theming dark light color colour colors colours style styles styling css look font', 'theming custom properties accent theme'],
  ['token tokens key keys auth authentication secret backend jwt', 'token endpoint broker key'],
  ['broker proxy server', 'broker token endpoint server'],
  ['esm module modules import bundler vite webpack', 'es module import mount'],
  ['react vue svelte angular framework frameworks spa', 'framework preact module mount'],
  ['event events listen listener callback callbacks', 'events answer instance'],
  ['element component webcomponent', 'codegpt chat element defineelement'],
  ['option options config configure configuration attribute attributes settings', 'options attribute'],
  ['inline container embedded', 'inline mode target'],
  ['stream streaming sse', 'stream streaming sse'],
];
const SYNONYMS = new Map<string, string[]>();
for (const [words, expansions] of SYNONYM_GROUPS) {
  for (const word of words.split(' ')) SYNONYMS.set(word, [...(SYNONYMS.get(word) ?? []), ...expansions.split(' ')]);
}

// ---------------------------------------------------------------------------------------------
// Sections

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})/;
const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;

/** Whether `line` closes a fence opened with `marker` (same character, at least as long, nothing after). */
function closesFence(line: string, marker: string): boolean {
  const match = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(line);
  return !!match?.[1] && match[1][0] === marker[0] && match[1].length >= marker.length;
}

/**
 * Splits markdown into sections, one per ATX heading. Fenced code stays with its section, and a `#`
 * line inside a fence is code, not a heading. Sections with an empty body are dropped.
 */
export function splitSections(markdown: string, doc: string): DocSection[] {
  const sections: DocSection[] = [];
  const stack: { level: number; text: string }[] = [];
  let lines: string[] = [];
  let fence: string | undefined;

  const flush = (): void => {
    const body = lines.join('\n').trim();
    lines = [];
    if (!body) return;
    const headings = stack.map((h) => h.text);
    // The first H1 names the document: below it, sections are cited without it.
    const shown = stack.length > 1 && stack[0]?.level === 1 ? headings.slice(1) : headings;
    sections.push({ path: [doc, ...shown], body, code: firstFence(body) });
  };

  for (const line of markdown.replace(/\r\n?/g, '\n').split('\n')) {
    if (fence !== undefined) {
      if (closesFence(line, fence)) fence = undefined;
      lines.push(line);
      continue;
    }
    const open = FENCE_OPEN.exec(line);
    if (open?.[1]) {
      fence = open[1];
      lines.push(line);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading?.[1] && heading[2]) {
      flush();
      const level = heading[1].length;
      while (stack.length > 0 && (stack[stack.length - 1]?.level ?? 0) >= level) stack.pop();
      stack.push({ level, text: heading[2].trim() });
      continue;
    }
    lines.push(line);
  }
  flush();
  return sections;
}

/** The first fenced block of `body`, fence lines included (closed if the source forgot to). */
function firstFence(body: string): string | undefined {
  const block = splitBlocks(body).find((b) => b.kind === 'fence');
  return block?.text;
}

// ---------------------------------------------------------------------------------------------
// Blocks: the units an answer is built from

type BlockKind = 'fence' | 'list' | 'table' | 'para';
interface Block {
  kind: BlockKind;
  text: string;
}

/** Splits a section body into paragraphs, lists, tables and fences (blank lines separate; fences are atomic). */
function splitBlocks(body: string): Block[] {
  const blocks: Block[] = [];
  let lines: string[] = [];
  let fence: string | undefined;
  const flush = (): void => {
    const text = lines.join('\n').trim();
    lines = [];
    if (!text) return;
    const first = text.split('\n')[0] ?? '';
    const kind: BlockKind = FENCE_OPEN.test(first)
      ? 'fence'
      : /^\s*\|/.test(first)
        ? 'table'
        : /^\s*([-*+]|\d+[.)])\s/.test(first)
          ? 'list'
          : 'para';
    blocks.push({ kind, text: kind === 'fence' && fence !== undefined ? `${text}\n${fence}` : text });
  };
  for (const line of body.split('\n')) {
    if (fence !== undefined) {
      lines.push(line);
      if (closesFence(line, fence)) {
        fence = undefined;
        flush();
      }
      continue;
    }
    const open = FENCE_OPEN.exec(line);
    if (open?.[1]) {
      flush();
      fence = open[1];
      lines.push(line);
      continue;
    }
    if (line.trim() === '') flush();
    else lines.push(line);
  }
  flush(); // an unclosed fence is closed by flush()
  return blocks;
}

// ---------------------------------------------------------------------------------------------
// Terms

/** Words of `text`: letters and digits; camelCase words also yield their parts (`tokenEndpoint`). */
function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const word of text.split(/[^\p{L}\p{N}]+/u)) {
    if (!word) continue;
    out.push(word);
    const parts = word.split(/(?<=\p{Ll})(?=\p{Lu})/u);
    if (parts.length > 1) out.push(...parts);
  }
  return out;
}

function processTerm(term: string): string | null {
  const lower = term.toLowerCase();
  return lower.length < 2 || STOP_WORDS.has(lower) ? null : lower;
}

/** The question's search terms with their weights: the visitor's words at 1, synonyms at 0.5. */
function queryTerms(question: string): Map<string, number> {
  const weights = new Map<string, number>();
  const typed = tokenize(question.slice(0, MAX_QUESTION_CHARS))
    .map(processTerm)
    .filter((t): t is string => t !== null);
  for (const term of typed) {
    if (weights.size >= MAX_QUERY_TERMS) break;
    weights.set(term, 1);
  }
  for (const term of [...weights.keys()]) {
    for (const synonym of SYNONYMS.get(term) ?? []) {
      if (!weights.has(synonym)) weights.set(synonym, SYNONYM_WEIGHT);
    }
  }
  return weights;
}

/** Summed weights of the query terms that `text` mentions (exactly, or as the prefix of a word). */
function mentions(text: string, terms: Map<string, number>): number {
  const words = new Set(tokenize(text).map((w) => w.toLowerCase()));
  let score = 0;
  for (const [term, weight] of terms) {
    for (const word of words) {
      if (word === term || (term.length >= 3 && word.startsWith(term))) {
        score += weight;
        break;
      }
    }
  }
  return score;
}

// ---------------------------------------------------------------------------------------------
// The agent

/** Creates a docs agent over `sources` (indexed once, here). */
export function createDocsAgent(sources: readonly DocSource[]): DocsAgent {
  const sections = sources.flatMap((source) => splitSections(source.markdown, source.name));
  const index = new MiniSearch<{ id: number; title: string; text: string }>({
    fields: ['title', 'text'],
    tokenize,
    processTerm,
  });
  index.addAll(
    sections.map((section, id) => ({
      id,
      title: (section.path.length > 1 ? section.path.slice(1) : section.path).join(' '),
      text: section.body,
    })),
  );

  /** The best sections for the question, best first; empty when nothing really matches. */
  function search(terms: Map<string, number>): DocSection[] {
    if (terms.size === 0) return [];
    const results = index.search([...terms.keys()].join(' '), {
      boost: { title: 4 },
      boostTerm: (term) => terms.get(term) ?? 1,
      // Prefix matching of one- and two-letter words would match half the docs.
      prefix: (term) => term.length >= 3,
      fuzzy: 0.2,
      combineWith: 'OR',
    });
    const top = results[0];
    // Only fuzzy matches ("swallow" ≈ "shallow") are noise, not an answer.
    if (!top || !results.some((r) => r.score >= top.score * RELATIVE_THRESHOLD && hasRealMatch(r))) return [];
    return results
      .filter((r) => r.score >= top.score * RELATIVE_THRESHOLD)
      // Ties are broken by document order, so the answer never depends on the index's internals.
      .sort((a, b) => b.score - a.score || (a.id as number) - (b.id as number))
      .slice(0, MAX_SECTIONS)
      .map((result) => sections[result.id as number]!);
  }

  return {
    sections,
    answer(messages) {
      const question = [...messages].reverse().find((m) => m.role === 'user')?.content.trim() ?? '';
      const talk = smallTalk(question);
      if (talk) return talk;
      const terms = queryTerms(question);
      const found = search(terms);
      return found.length === 0 ? NO_MATCH_REPLY : compose(found, terms);
    },
  };
}

/** A result matched at least one term exactly or as a prefix (not only by edit distance). */
function hasRealMatch(result: SearchResult): boolean {
  return result.queryTerms.some((q) => result.terms.some((t) => t === q || (q.length >= 3 && t.startsWith(q))));
}

/** A short reply when the message is only a greeting, thanks or goodbye; undefined otherwise. */
function smallTalk(question: string): string | undefined {
  const words = question.toLowerCase().split(/[^\p{L}]+/u).filter(Boolean);
  if (words.length === 0) return GREETING_REPLY;
  if (words.length > 6) return undefined;
  const only = (set: Set<string>) => words.every((w) => set.has(w));
  if (only(BYE_WORDS) && words.some((w) => w.startsWith('bye') || w === 'later' || w === 'cya' || w === 'ciao')) return BYE_REPLY;
  if (only(THANKS_WORDS) && words.some((w) => w.startsWith('thank') || w === 'thx' || w === 'ty' || w === 'cheers')) return THANKS_REPLY;
  if (only(GREETING_WORDS) && words.some((w) => !['there', 'all', 'folks', 'day', 'good', 'bot'].includes(w))) return GREETING_REPLY;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Composing the answer

/** `README › Script tag`: what a citation looks like. */
export function citation(section: DocSection): string {
  return section.path.join(' › ');
}

function compose(sections: DocSection[], terms: Map<string, number>): string {
  const names = sections.map((s) => `**${s.path[s.path.length - 1] ?? ''}**`);
  const lead =
    names.length === 1
      ? `Here is what the codegpt-widget docs say about ${names[0]}:`
      : `Here is what the codegpt-widget docs say about ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}:`;

  const passages: string[] = [];
  let budget = TEXT_BUDGET;
  sections.forEach((section, rank) => {
    if (budget < MIN_PASSAGE) return;
    const picked = pickPassages(section, terms, budget, rank === 0);
    for (const text of picked) budget -= text.length;
    passages.push(...picked);
  });

  // The first example of the best-ranked section that has one.
  const code = sections.find((s) => s.code !== undefined)?.code;
  const parts = [lead, ...passages.map(tidy)];
  if (code) parts.push(shortenFence(code));
  parts.push(['Sources:', ...sections.map((s) => `- ${citation(s)}`)].join('\n'));
  return parts.join('\n\n');
}

/**
 * The blocks of `section` worth quoting, in document order, within `budget` characters: the blocks
 * that mention the question's terms first (the best section also keeps its opening paragraph for
 * context), long ones cut at a sentence or item boundary.
 */
function pickPassages(section: DocSection, terms: Map<string, number>, budget: number, best: boolean): string[] {
  const blocks = splitBlocks(section.body)
    .map((block, position) => ({ block, position, score: mentions(block.text, terms) }))
    .filter((b) => b.block.kind !== 'fence');
  const firstPara = blocks.find((b) => b.block.kind === 'para');
  const ranked = blocks
    .filter((b) => b.score > 0 || (best && b === firstPara))
    .sort((a, b) => Number(b === firstPara && best) - Number(a === firstPara && best) || b.score - a.score || a.position - b.position);
  if (ranked.length === 0 && blocks[0]) ranked.push(blocks[0]);

  const chosen: { position: number; text: string }[] = [];
  let left = budget;
  for (const { block, position } of ranked) {
    if (left < MIN_PASSAGE / 2) break;
    const text = fitBlock(block, terms, left);
    if (!text) continue;
    chosen.push({ position, text });
    left -= text.length;
  }
  return chosen.sort((a, b) => a.position - b.position).map((c) => c.text);
}

/** The block cut to `max` characters: whole sentences, list items or table rows; '' when nothing fits. */
function fitBlock(block: Block, terms: Map<string, number>, max: number): string {
  if (block.kind === 'table') return fitItems(tableToBullets(block.text), terms, max);
  if (block.kind === 'list') return fitItems(listItems(block.text), terms, max);
  const text = block.text.replace(/\s*\n\s*/g, ' ');
  return text.length <= max ? text : cutSentences(text, max);
}

/**
 * Items that mention the question first (up to 6), else the first few; whole items, document order.
 * A term most items mention (`data` in a table of `data-*` attributes) does not tell them apart, so
 * it does not count here.
 */
function fitItems(items: string[], terms: Map<string, number>, max: number): string {
  const telling = new Map(
    [...terms].filter(([term, weight]) => {
      const single = new Map([[term, weight]]);
      return items.length < 3 || items.filter((item) => mentions(item, single) > 0).length <= items.length / 2;
    }),
  );
  const scored = items.map((item, position) => ({ item, position, score: mentions(item, telling) }));
  const matching = scored.filter((s) => s.score > 0).sort((a, b) => b.score - a.score || a.position - b.position);
  const candidates = (matching.length > 0 ? matching.slice(0, 6) : scored.slice(0, 3)).sort((a, b) => a.position - b.position);
  const kept: string[] = [];
  let used = 0;
  for (const { item } of candidates) {
    const text = item.length <= max - used ? item : kept.length === 0 ? `- ${cutSentences(item.slice(2), max - 2)}` : '';
    if (!text || text === '- ') continue;
    kept.push(text);
    used += text.length + 1;
  }
  return kept.join('\n');
}

/** List items, each with its continuation lines joined (`- item text`). */
function listItems(text: string): string[] {
  const items: string[] = [];
  for (const line of text.split('\n')) {
    const marker = /^([-*+]|\d+[.)])\s+(.*)$/.exec(line);
    if (marker) items.push(`- ${marker[2] ?? ''}`);
    else if (items.length > 0) items[items.length - 1] += ` ${line.trim()}`;
  }
  return items;
}

/**
 * A markdown table as bullets (`- cell — header: cell; …`), which reads better in a narrow chat panel
 * than a wide table. A `|` inside a code span does not split cells.
 */
function tableToBullets(text: string): string[] {
  const rows = text.split('\n').map(splitRow);
  const header = rows[0] ?? [];
  return rows.slice(2).map((cells) => {
    const [first = '', ...rest] = cells;
    const details = rest
      .map((cell, i) => ({ cell, name: (header[i + 1] ?? '').toLowerCase() }))
      .filter(({ cell }) => cell !== '' && cell !== '—' && cell !== '-')
      .map(({ cell, name }) => (name ? `${name}: ${cell}` : cell));
    return `- ${first}${details.length > 0 ? ` — ${details.join('; ')}` : ''}`;
  });
}

function splitRow(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let code = false;
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < body.length; i += 1) {
    const ch = body[i]!;
    if (ch === '\\' && body[i + 1] === '|') {
      cell += '|';
      i += 1;
    } else if (ch === '`') {
      code = !code;
      cell += ch;
    } else if (ch === '|' && !code) {
      cells.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  cells.push(cell.trim());
  return cells;
}

/**
 * Whole sentences of `text` up to `max` characters (with an ellipsis when cut). Never leaves a code
 * span open: a cut that would is moved back to the previous sentence.
 */
function cutSentences(text: string, max: number): string {
  const sentences = text.match(/[^.!?]+(?:[.!?]+(?=\s|$)|$)\s*|[^\s]+\s*/g) ?? [text];
  let out = '';
  for (const sentence of sentences) {
    if ((out + sentence).trimEnd().length > max - 2) break;
    out += sentence;
  }
  out = out.trimEnd();
  if (!out) {
    // A single sentence longer than the budget: cut at a word boundary outside code spans.
    const words = text.split(' ');
    for (const word of words) {
      if ((out ? `${out} ${word}` : word).length > max - 2) break;
      out = out ? `${out} ${word}` : word;
    }
    while (out && (out.match(/`/g)?.length ?? 0) % 2 === 1) out = out.slice(0, out.lastIndexOf('`')).trimEnd();
  }
  return out && out.length < text.length ? `${out.replace(/[,;:]$/, '')} …` : out;
}

/**
 * Makes a passage safe and self-contained: in-page links (`[Size](#size)`) become plain text, since
 * their anchors do not exist in the chat, and tag-like text outside code becomes a code span, so the
 * answer carries no raw HTML.
 */
function tidy(passage: string): string {
  return passage
    .split(/(`[^`\n]*`)/)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part.replace(/\[([^\]\n]+)\]\(#[^)\s]*\)/g, '$1').replace(/<\/?[A-Za-z][^<>`\n]*>/g, (tag) => `\`${tag}\``),
    )
    .join('');
}

/** A fence of at most {@link MAX_CODE_LINES} code lines (its closing line kept). */
function shortenFence(fence: string): string {
  const lines = fence.split('\n');
  if (lines.length <= MAX_CODE_LINES + 2) return fence;
  return [...lines.slice(0, MAX_CODE_LINES + 1), lines[lines.length - 1] ?? '```'].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Reading the repository's docs

/** README.md and every `docs/**.md` under `root`, in a stable order (README first, then by path). */
export function readDocs(root: string): DocSource[] {
  return docFiles(root).map((file) => ({
    name: relative(root, file).split(sep).join('/').replace(/\.md$/i, ''),
    markdown: readFileSync(file, 'utf8'),
  }));
}

function docFiles(root: string): string[] {
  const files: string[] = [];
  const readme = join(root, 'README.md');
  if (existsSync(readme)) files.push(readme);
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry);
      const info = statSync(path, { throwIfNoEntry: false });
      if (info?.isDirectory()) walk(path);
      else if (info?.isFile() && /\.md$/i.test(entry)) files.push(path);
    }
  };
  walk(join(root, 'docs'));
  return files;
}

/**
 * A docs agent over the repository at `root`. The index is built now, and rebuilt on the next
 * question after a doc file was added, removed or changed (cheap `stat` calls; no watcher to close).
 * A repo without docs still answers, with {@link NO_MATCH_REPLY}.
 */
export function createRepoDocsAgent(root: string): DocsAgent {
  const fingerprint = (): string =>
    docFiles(root)
      .map((file) => {
        const info = statSync(file, { throwIfNoEntry: false });
        return `${file}:${info?.size ?? -1}:${info?.mtimeMs ?? -1}`;
      })
      .join('|');
  let seen = fingerprint();
  let agent = createDocsAgent(readDocs(root));
  const current = (): DocsAgent => {
    const now = fingerprint();
    if (now !== seen) {
      seen = now;
      agent = createDocsAgent(readDocs(root));
    }
    return agent;
  };
  return {
    answer: (messages) => current().answer(messages),
    get sections() {
      return current().sections;
    },
  };
}
