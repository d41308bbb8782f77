/**
 * Plain Node: the broker alone on its own port, at `/api/codegpt/*` (`/token`, `/chat/completions`,
 * `/health`). Put it behind the same origin as your pages (a reverse proxy route), or list the pages'
 * origin in ALLOWED_ORIGINS and point the widget at the full URL.
 *
 * In your project (imports switched to `codegpt-widget/server/node`, see broker.ts):
 *
 *   node --env-file=.env --experimental-strip-types server.ts   # Node 22.6+; or: npx tsx server.ts
 */
import { serve } from '../../server/node';
import { createBrokerFromEnv } from './broker';

const broker = createBrokerFromEnv(process.env);
/** The running server (exported so a test can start this file on port 0 and stop it). */
export const server = await serve(broker, {
  port: Number(process.env.PORT ?? 8787),
  host: process.env.HOST ?? '127.0.0.1',
});
console.log(`codegpt broker on ${server.url}/api/codegpt (token endpoint: ${server.url}/api/codegpt/token)`);
