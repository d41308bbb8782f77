/**
 * Express-style: the broker inside an existing app, at `/api/codegpt`.
 *
 * ```ts
 * import express from 'express';
 * import { mountBroker } from './express';
 *
 * const app = express();
 * mountBroker(app, process.env); // before express.json() or any other body parser
 * app.use(express.json());       // your own routes follow
 * app.listen(3000);
 * ```
 *
 * Two things matter. The broker reads the raw request body itself, so it must be mounted before
 * any body parser (a parser that consumed the stream leaves it nothing to read). And `app.use(path)`
 * strips `path` from `req.url`, so the listener puts it back from `req.originalUrl`: the broker then
 * sees the same URLs as everywhere else (`basePath: '/api/codegpt'`). Works the same with Connect,
 * Polka or any framework whose middleware is `(req, res, next)` over `node:http`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toNodeListener } from '../../server/node';
import { createBrokerFromEnv, type BrokerEnv } from './broker';

export const BROKER_PATH = '/api/codegpt';

/** The part of an Express app used here. */
export interface AppLike {
  use(path: string, handler: (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse) => void): unknown;
}

/** Mounts the broker at {@link BROKER_PATH} of `app`. */
export function mountBroker(app: AppLike, env: BrokerEnv, overrides: Parameters<typeof createBrokerFromEnv>[1] = {}): void {
  const listener = toNodeListener(createBrokerFromEnv(env, { basePath: BROKER_PATH, ...overrides }));
  app.use(BROKER_PATH, (req, res) => {
    if (req.originalUrl) req.url = req.originalUrl;
    listener(req, res);
  });
}
