import { WidgetError } from './errors';
import type { Strings } from './strings';
import type { StreamFormat, TokenResponse } from './types';

/**
 * Options of {@link mount}: one camelCase field per `data-*` attribute of the script tag
 * (embed.md sections 2 and 3).
 * @public
 */
export interface WidgetOptions {
  /** The CodeGPT agent to talk to. Required. */
  agentId: string;
  /** URL of the site owner's token endpoint (embed.md section 5). Required unless `getToken` is given. */
  tokenEndpoint?: string;
  /** Supplies tokens instead of `tokenEndpoint`. */
  getToken?: () => Promise<TokenResponse>;
  /**
   * Base URL of a CodeGPT-compatible API; the widget POSTs to `{apiBase}/chat/completions`.
   * @defaultValue the token response's `apiBase`, else `https://api.codegpt.co/api/v1`
   */
  apiBase?: string;
  /** Sent as the `CodeGPT-Org-Id` header. @defaultValue not sent */
  orgId?: string;
  /** `bubble`: floating launcher and panel; `inline`: the panel inside `target`. @defaultValue 'bubble' */
  mode?: 'bubble' | 'inline';
  /** Container for `inline` mode: an Element or a CSS selector. */
  target?: Element | string;
  /** Panel title. @defaultValue 'Ask AI' */
  title?: string;
  /** First assistant message shown before any question; never sent to the API. */
  welcome?: string;
  /** Input placeholder. @defaultValue 'Ask a question…' */
  placeholder?: string;
  /** Suggested questions shown before the first question. */
  suggestions?: string[];
  /** Side of the launcher in bubble mode. @defaultValue 'right' */
  position?: 'right' | 'left';
  /** `auto` follows `prefers-color-scheme`. @defaultValue 'auto' */
  theme?: 'auto' | 'light' | 'dark';
  /** Accent colour, any CSS colour. @defaultValue a blue */
  accent?: string;
  /** Open the panel at load. @defaultValue false */
  open?: boolean;
  /** Language of the widget's own strings. @defaultValue `navigator.language`, falling back to `en` */
  locale?: string;
  /** Where the conversation is kept. @defaultValue 'session' */
  persist?: 'session' | 'local' | 'none';
  /** The `format` sent to the API. @defaultValue 'json' */
  format?: StreamFormat;
  /** Hosts whose markdown images may load; others render as links. @defaultValue none */
  imageHosts?: string[];
  /** `credentials` mode of the token request. @defaultValue 'same-origin' */
  tokenCredentials?: RequestCredentials;
  /** Nonce for a `<style>` fallback where constructable stylesheets are unavailable. */
  cspNonce?: string;
  /** Override any built-in text. */
  strings?: Partial<Strings>;
  /** Route the widget's requests through the host's own fetch. */
  fetch?: typeof fetch;
  /**
   * Who is signed in on the host site, if anyone: stored conversations are scoped by agent and by
   * this id, so two people sharing a browser never see each other's chats.
   */
  userId?: string;
  /** Log configuration, token fetches, stream timings and page problems to the console. @defaultValue false */
  debug?: boolean;
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  agentId: string;
  tokenEndpoint: string | undefined;
  getToken: (() => Promise<TokenResponse>) | undefined;
  apiBase: string | undefined;
  orgId: string | undefined;
  mode: 'bubble' | 'inline';
  target: Element | string | undefined;
  title: string | undefined;
  welcome: string | undefined;
  placeholder: string | undefined;
  suggestions: string[];
  position: 'right' | 'left';
  theme: 'auto' | 'light' | 'dark';
  accent: string | undefined;
  open: boolean;
  locale: string | undefined;
  persist: 'session' | 'local' | 'none';
  format: StreamFormat;
  imageHosts: string[];
  tokenCredentials: RequestCredentials;
  cspNonce: string | undefined;
  strings: Partial<Strings> | undefined;
  fetch: typeof fetch | undefined;
  userId: string | undefined;
  debug: boolean;
}

/** A field name in kebab case, e.g. `agentId` → `agent-id` (the `<codegpt-chat>` attribute). */
export function kebabCase(field: string): string {
  return field.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** The attribute name users of the script tag know a field by, e.g. `agentId` → `data-agent-id`. */
export function attributeName(field: string): string {
  return 'data-' + kebabCase(field);
}

/** The `config` error for an unusable option, naming the field and its attribute. */
export function configError(field: string, problem: string): WidgetError {
  return new WidgetError('config', `codegpt-widget: ${field} (${attributeName(field)}) ${problem}`);
}

/** True for `https:` URLs and for `http:` on the local machine (development). */
export function isAllowedApiUrl(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/** Enumerated options: allowed values, the first being the default. */
export const CHOICES = {
  mode: ['bubble', 'inline'],
  position: ['right', 'left'],
  theme: ['auto', 'light', 'dark'],
  persist: ['session', 'local', 'none'],
  format: ['json', 'text'],
  tokenCredentials: ['same-origin', 'include', 'omit'],
} as const;

/** Free-text options and their longest accepted length. */
export const TEXTS = { orgId: 200, title: 200, welcome: 4000, placeholder: 200, accent: 100, locale: 35, cspNonce: 200, userId: 200 } as const;

function optionalString(field: string, value: unknown, max = 2000): string | undefined {
  if (value == null) return undefined;
  if (typeof value !== 'string') throw configError(field, 'must be a string.');
  const trimmed = value.trim();
  if (trimmed.length > max) throw configError(field, `is longer than ${max} characters.`);
  return trimmed || undefined;
}

function stringList(field: string, value: unknown, maxItems: number, maxLength: number): string[] {
  if (value == null) return [];
  if (!Array.isArray(value)) throw configError(field, 'must be an array of strings.');
  return value
    .filter((s): s is string => typeof s === 'string')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s.length <= maxLength)
    .slice(0, maxItems);
}

/**
 * Apply defaults and validate. Throws a `config` {@link WidgetError} naming the field and its
 * attribute when a required option is missing or unusable; collects warnings for optional ones
 * that fall back to their default. `pageUrl` resolves relative URLs: the page's own URL, never
 * `document.baseURI`, so a hostile `<base href>` cannot redirect requests (reliability E11).
 */
export function resolveOptions(input: WidgetOptions, pageUrl?: string): { options: ResolvedOptions; warnings: string[] } {
  if (typeof input !== 'object' || input === null) {
    throw new WidgetError('config', 'codegpt-widget: mount() needs an options object, e.g. mount({ agentId, tokenEndpoint }).');
  }
  const warnings: string[] = [];
  const raw = input as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [field, allowed] of Object.entries(CHOICES)) {
    const value = raw[field];
    const fallback = allowed[0];
    out[field] = (allowed as readonly unknown[]).includes(value) ? value : fallback;
    if (value != null && value !== '' && out[field] !== value) {
      warnings.push(`codegpt-widget: ${field} (${attributeName(field)}) must be one of ${allowed.join(', ')}; using "${fallback}".`);
    }
  }
  for (const [field, max] of Object.entries(TEXTS)) out[field] = optionalString(field, raw[field], max);
  for (const field of ['getToken', 'fetch'] as const) {
    if (input[field] !== undefined && typeof input[field] !== 'function') throw configError(field, 'must be a function.');
  }

  const agentId = optionalString('agentId', input.agentId, 200);
  if (!agentId) throw configError('agentId', 'is required: set it to the id of your CodeGPT agent.');
  let tokenEndpoint = optionalString('tokenEndpoint', input.tokenEndpoint);
  if (!tokenEndpoint && !input.getToken) {
    throw configError('tokenEndpoint', 'is required: point it at your token endpoint, or pass getToken to mount().');
  }
  if (tokenEndpoint) tokenEndpoint = absoluteUrl('tokenEndpoint', tokenEndpoint, pageUrl, false);
  let apiBase = optionalString('apiBase', input.apiBase);
  if (apiBase) apiBase = absoluteUrl('apiBase', apiBase, pageUrl, true).replace(/\/+$/, '');

  const target = input.target || undefined;
  if (out.mode === 'inline' && !target) {
    throw configError('target', 'is required in inline mode: give the CSS selector of the container.');
  }
  const imageHosts = stringList('imageHosts', input.imageHosts, 50, 253)
    .map((h) => h.toLowerCase())
    .filter((h) => {
      const ok = /^[a-z0-9.-]+(:\d{1,5})?$/.test(h);
      if (!ok) warnings.push(`codegpt-widget: imageHosts (data-image-hosts) ignores "${h}": give host names only.`);
      return ok;
    });

  return {
    warnings,
    options: {
      ...(out as Pick<ResolvedOptions, keyof typeof CHOICES | keyof typeof TEXTS>),
      agentId,
      tokenEndpoint,
      getToken: input.getToken,
      apiBase,
      target,
      suggestions: stringList('suggestions', input.suggestions, 6, 200),
      open: input.open === true,
      debug: input.debug === true,
      imageHosts,
      strings: typeof input.strings === 'object' && input.strings !== null ? input.strings : undefined,
      fetch: input.fetch,
    },
  };
}

function absoluteUrl(field: string, value: string, pageUrl: string | undefined, api: boolean): string {
  let url: URL;
  try {
    url = new URL(value, pageUrl);
  } catch {
    throw configError(field, `is not a valid URL: "${value.slice(0, 100)}".`);
  }
  if (api ? !isAllowedApiUrl(url) : url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw configError(field, api ? 'must be an https: URL (or http://localhost).' : 'must be an http(s) URL.');
  }
  return url.href;
}
