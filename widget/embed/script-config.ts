import type { WidgetOptions } from '../core/options';

/** Attribute names (without `data-`) → option fields, embed.md section 2. */
const FIELDS = [
  'agent-id',
  'token-endpoint',
  'api-base',
  'org-id',
  'mode',
  'target',
  'title',
  'welcome',
  'placeholder',
  'suggestions',
  'position',
  'theme',
  'accent',
  'open',
  'locale',
  'persist',
  'format',
  'image-hosts',
  'token-credentials',
  'csp-nonce',
  'user-id',
  'debug',
] as const;

const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Options from attributes: `data-agent-id` on the script tag (prefix `data-`) or `agent-id` on
 * `<codegpt-chat>` (no prefix). Lists are split (`suggestions` on `|`, `image-hosts` on spaces),
 * `open` is true when present and not "false".
 */
export function readAttributes(el: Element, prefix: '' | 'data-'): Partial<WidgetOptions> {
  const out: Record<string, unknown> = {};
  for (const name of FIELDS) {
    const value = el.getAttribute(prefix + name);
    if (value === null) continue;
    if (name === 'suggestions') out.suggestions = value.split('|');
    else if (name === 'image-hosts') out.imageHosts = value.split(/\s+/).filter(Boolean);
    else if (name === 'open' || name === 'debug') out[name] = value !== 'false';
    else out[camel(name)] = value;
  }
  return out as Partial<WidgetOptions>;
}

/** True when the script tag carries any widget attribute, i.e. it asks to be mounted. */
export function hasConfig(el: Element): boolean {
  return FIELDS.some((name) => el.hasAttribute('data-' + name));
}
