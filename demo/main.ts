/**
 * Runs the demo: `codegpt-widget demo: http://127.0.0.1:8787`. Set PORT to change the port.
 * Everything is local: the CodeGPT-compatible mock answers, and no real API key is used anywhere.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startDemoServer } from './server';

async function main(): Promise<void> {
  // A small delay between pieces, so the demo visibly streams (tests use 0).
  const server = await startDemoServer({ mock: { pieceDelayMs: 40, log: (line) => console.log(line) } });
  console.log(`codegpt-widget demo: ${server.url}`);
  console.log(`upstream: local CodeGPT-compatible mock at ${server.url}/api/v1 (offline, no API key)`);
  console.log(`tokens:   development token endpoint at ${server.url}/dev/token`);
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
  console.error(error);
  process.exit(1);
});
