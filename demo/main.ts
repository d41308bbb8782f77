/**
 * Runs the demo: `codegpt-widget demo: http://127.0.0.1:8787`. Set PORT to change the port.
 *
 * One process serves the demo pages, the reference token broker at `/api/codegpt` and, by default,
 * the offline docs agent as the broker's upstream: no API key, no network. With `CODEGPT_API_KEY`
 * and `CODEGPT_AGENT_ID` set (optionally `CODEGPT_ORG_ID`, `CODEGPT_API_BASE`), the broker calls the
 * real CodeGPT API with that key and agent instead. The key is never printed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BROKER_PATH, startDemoServer, type DemoUpstream } from './server';

const DEFAULT_API_BASE = 'https://api.codegpt.co/api/v1';

/** The real-API upstream from the environment, or undefined for the offline docs agent. */
function upstreamFromEnv(env: NodeJS.ProcessEnv): DemoUpstream | undefined {
  const key = env.CODEGPT_API_KEY?.trim();
  const agentId = env.CODEGPT_AGENT_ID?.trim();
  if (!key || !agentId) {
    if (key || agentId) {
      console.warn('note:     set both CODEGPT_API_KEY and CODEGPT_AGENT_ID to use the real API; using the offline docs agent');
    }
    return undefined;
  }
  const orgId = env.CODEGPT_ORG_ID?.trim();
  return {
    base: env.CODEGPT_API_BASE?.trim() || DEFAULT_API_BASE,
    key,
    agentId,
    ...(orgId ? { orgId } : {}),
    keySource: 'CODEGPT_API_KEY',
  };
}

async function main(): Promise<void> {
  const server = await startDemoServer({
    // A small delay between pieces, so the offline answers visibly stream (tests use 0).
    mock: { pieceDelayMs: 25 },
    upstream: upstreamFromEnv(process.env),
    log: (line) => console.log(line),
  });
  console.log(`codegpt-widget demo: ${server.url}  (pages: /, /esm.html, /inline.html)`);
  console.log(`upstream: ${server.upstream}`);
  console.log(`broker:   ${server.url}${BROKER_PATH}/token and ${BROKER_PATH}/chat/completions (agent ${server.agentId}; dev signing key made at start)`);
  console.log(`tests:    development token endpoint at ${server.url}/dev/token, mock API at ${server.url}/api/v1`);
  if (!existsSync(join(process.cwd(), 'dist', 'codegpt-widget.iife.js'))) {
    console.log('note:     dist/codegpt-widget.iife.js is missing; run the build first');
  }
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  // The message only: a config error names the bad field, never a secret value.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
