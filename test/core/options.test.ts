import { describe, expect, it } from 'vitest';
import { WidgetError } from '../../widget/core/errors';
import { attributeName, resolveOptions, type WidgetOptions } from '../../widget/core/options';

const page = 'https://docs.example/guide/';
const resolve = (o: Partial<WidgetOptions>) => resolveOptions(o as WidgetOptions, page);

function configError(o: Partial<WidgetOptions>): string {
  try {
    resolve(o);
  } catch (e) {
    expect(e).toBeInstanceOf(WidgetError);
    expect((e as WidgetError).code).toBe('config');
    return (e as WidgetError).message;
  }
  throw new Error('expected a config error');
}

describe('resolveOptions', () => {
  it('applies the defaults of embed.md section 2', () => {
    const { options, warnings } = resolve({ agentId: ' a1 ', tokenEndpoint: '/api/codegpt/token' });
    expect(warnings).toEqual([]);
    expect(options).toMatchObject({
      agentId: 'a1',
      tokenEndpoint: 'https://docs.example/api/codegpt/token',
      apiBase: undefined,
      mode: 'bubble',
      position: 'right',
      theme: 'auto',
      open: false,
      persist: 'session',
      format: 'json',
      imageHosts: [],
      suggestions: [],
      tokenCredentials: 'same-origin',
    });
  });

  it('names the missing attribute and how to fix it', () => {
    expect(configError({ tokenEndpoint: '/t' })).toMatch(/agentId \(data-agent-id\) is required/);
    expect(configError({ agentId: 'a' })).toMatch(/tokenEndpoint \(data-token-endpoint\) is required.*getToken/);
    expect(configError({ agentId: 'a', tokenEndpoint: '/t', mode: 'inline' })).toMatch(/data-target/);
    expect(configError({ agentId: 'a', tokenEndpoint: 'javascript:alert(1)' })).toMatch(/data-token-endpoint/);
    expect(configError({ agentId: 'a', tokenEndpoint: '/t', apiBase: 'http://evil.test/api' })).toMatch(/data-api-base.*https/);
  });

  it('accepts getToken instead of an endpoint, and https or localhost api bases', () => {
    const getToken = async () => ({ token: 't', expiresIn: 60 });
    expect(resolve({ agentId: 'a', getToken }).options.getToken).toBe(getToken);
    expect(resolve({ agentId: 'a', getToken, apiBase: 'http://127.0.0.1:8787/api/v1/' }).options.apiBase).toBe('http://127.0.0.1:8787/api/v1');
  });

  it('falls back with a warning on unknown enum values', () => {
    const { options, warnings } = resolve({ agentId: 'a', tokenEndpoint: '/t', theme: 'drak' as never });
    expect(options.theme).toBe('auto');
    expect(warnings[0]).toMatch(/theme \(data-theme\) must be one of auto, light, dark/);
  });

  it('cleans lists: suggestions capped, image hosts lower-cased, junk hosts dropped with a warning', () => {
    const { options, warnings } = resolve({
      agentId: 'a',
      tokenEndpoint: '/t',
      suggestions: [' one ', '', 'two', 'three', 'four', 'five', 'six', 'seven'],
      imageHosts: ['IMG.Example.com', 'https://bad/'],
    });
    expect(options.suggestions).toEqual(['one', 'two', 'three', 'four', 'five', 'six']);
    expect(options.imageHosts).toEqual(['img.example.com']);
    expect(warnings).toHaveLength(1);
  });

  it('maps field names to attribute names', () => {
    expect(attributeName('imageHosts')).toBe('data-image-hosts');
    expect(attributeName('agentId')).toBe('data-agent-id');
  });
});
