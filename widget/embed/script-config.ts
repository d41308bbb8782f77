import { CHOICES, TEXTS, attributeName, kebabCase, type WidgetOptions } from '../core/options';

/**
 * Option fields set by attributes (`agentId` by `data-agent-id` or `agent-id`), embed.md section 2:
 * these, and every enumerated and free-text option (the options' CHOICES and TEXTS tables).
 */
const FIELDS = [
  'agentId',
  'tokenEndpoint',
  'apiBase',
  'target',
  'suggestions',
  'open',
  'imageHosts',
  'debug',
  ...Object.keys(CHOICES),
  ...Object.keys(TEXTS),
] as (keyof WidgetOptions)[];

/**
 * Options from attributes: `data-agent-id` on the script tag (prefix `data-`) or `agent-id` on
 * `<codegpt-chat>` (no prefix). Lists are split (`suggestions` on `|`, `image-hosts` on spaces),
 * `open` is true when present and not "false".
 */
export function readAttributes(el: Element, prefix: '' | 'data-'): Partial<WidgetOptions> {
  const out: Record<string, unknown> = {};
  for (const field of FIELDS) {
    const value = el.getAttribute(prefix + kebabCase(field));
    if (value === null) continue;
    if (field === 'suggestions') out.suggestions = value.split('|');
    else if (field === 'imageHosts') out.imageHosts = value.split(/\s+/).filter(Boolean);
    else if (field === 'open' || field === 'debug') out[field] = value !== 'false';
    else out[field] = value;
  }
  return out as Partial<WidgetOptions>;
}

/** True when the script tag carries any widget attribute, i.e. it asks to be mounted. */
export function hasConfig(el: Element): boolean {
  return FIELDS.some((field) => el.hasAttribute(attributeName(field)));
}
