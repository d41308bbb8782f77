import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRepoDocsAgent } from '../../demo/docs-agent';
import { startDemoServer } from '../../demo/server';
import { describeBrowser, lastAnswer, launchChromium, newPage, type PageWatch } from './helpers/browser';

type Server = Awaited<ReturnType<typeof startDemoServer>>;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A run of plain words from the first passage of the docs agent's own answer: text that must show up
 * in the rendered message whatever markdown it sat in (code spans, links and emphasis are cut out).
 */
function plainFragment(answer: string): string {
  const passage = answer.split('\n\n')[1] ?? '';
  const pieces = passage.split(/`[^`]*`|[`*_[\]()<>|#]|\s-\s|https?:\/\/\S+/).map((p) => p.trim().replace(/\s+/g, ' '));
  return pieces.reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 60).trim();
}

/** Text of the last assistant message's content, whitespace-normalised. */
const flat = (text: string) => text.replace(/\s+/g, ' ');

/** Console errors include CSP violations ("Refused to …"): the demo pages run under a strict policy. */
function expectClean(watch: PageWatch): void {
  expect(watch.errors).toEqual([]);
  expect(watch.console.filter((m) => m.type === 'error')).toEqual([]);
}

async function ask(page: Page, question: string): Promise<{ state: string; text: string }> {
  await page.locator('[part="input"]').fill(question);
  await page.keyboard.press('Enter');
  return lastAnswer(page);
}

describeBrowser('the demo pages on the reference broker, in Chromium', () => {
  let server: Server;
  let browser: Browser;
  const logs: string[] = [];

  beforeAll(async () => {
    server = await startDemoServer({ port: 0, log: (line) => logs.push(line) });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('/: the script-tag docs page answers "How do I install it?" from the README through the broker', async () => {
    const expected = createRepoDocsAgent(ROOT).answer([{ role: 'user', content: 'How do I install it?' }]);
    const topSource = /\nSources:\n- (.+)/.exec(expected)?.[1] ?? '';
    expect(topSource).toMatch(/^README › /);
    const fragment = plainFragment(expected);
    expect(fragment.length).toBeGreaterThan(20);

    const { page, context, watch } = await newPage(browser);
    await page.goto(server.url + '/');
    await page.locator('[part="launcher"]').click();
    const answer = await ask(page, 'How do I install it?');
    expect(answer.state).toBe('done');
    expect(flat(answer.text)).toContain(fragment);
    expect(flat(answer.text)).toContain(topSource);
    // The widget went through the broker, not the dev token endpoint.
    expect(server.devToken.calls()).toBe(0);
    expect(logs.some((l) => l.startsWith('broker /token 200'))).toBe(true);
    await expect.poll(() => logs.some((l) => /^broker \/chat\/completions 200 .* stream_end done/.test(l))).toBe(true);
    expectClean(watch);
    await context.close();
  });

  it('/esm.html: the ES module SPA mounts, answers, logs the answer event, and survives destroy + mount again', async () => {
    const { page, context, watch } = await newPage(browser);
    await page.goto(server.url + '/esm.html');
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/^Mounted \(instance #1/);
    await page.locator('[data-route="projects"]').click();
    expect(await page.locator('[data-view="projects"]').isVisible()).toBe(true);
    await page.locator('[data-action="open"]').click();
    const answer = await ask(page, 'How do I use it as an ES module?');
    expect(answer.state).toBe('done');
    expect(answer.text).toContain('README › ES module');
    await expect.poll(() => page.locator('#log [data-event="answer"]').count()).toBe(1);
    expect(await page.locator('#log [data-event="answer"]').textContent()).toContain('[done] Here is what the codegpt-widget docs say');

    await page.locator('[data-action="destroy"]').click();
    expect(await page.locator('codegpt-chat').count()).toBe(0);
    expect(await page.locator('[data-action="open"]').isDisabled()).toBe(true);
    await page.locator('[data-action="mount"]').click();
    expect(await page.locator('codegpt-chat').count()).toBe(1);
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/^Mounted \(instance #2/);
    expectClean(watch);
    await context.close();
  });

  it('/inline.html: the panel shows inside its container, with no launcher, and answers', async () => {
    const { page, context, watch } = await newPage(browser);
    await page.goto(server.url + '/inline.html');
    const panel = page.locator('#chat codegpt-chat [part~="panel"]');
    await panel.waitFor();
    expect(await page.locator('[part="launcher"]').count()).toBe(0);
    const box = (await panel.boundingBox())!;
    const container = (await page.locator('#chat').boundingBox())!;
    expect(box.width).toBeGreaterThan(200);
    expect(box.x).toBeGreaterThanOrEqual(container.x - 1);
    expect(box.x + box.width).toBeLessThanOrEqual(container.x + container.width + 1);
    expect(box.y).toBeGreaterThanOrEqual(container.y - 1);
    const answer = await ask(page, 'what about dark mode?');
    expect(answer.state).toBe('done');
    expect(answer.text).toContain('README › ');
    expectClean(watch);
    await context.close();
  });
});
