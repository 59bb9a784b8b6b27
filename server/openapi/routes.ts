import { Hono } from 'hono';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { z } from 'zod';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { AppEnv } from '../http/principal';
import { doc } from './describe';
import { buildOpenApiDocument } from './document';

/*
 * `GET /api/openapi.json` and its reference page `GET /api/docs` (Swagger UI). The page's script and
 * style are served from the installed swagger-ui-dist, never a CDN: the CSP allows scripts from this
 * origin only, and a hospital network may reach nothing else. The page's own start-up code is a file
 * too (no inline script), for the same CSP.
 */

const swaggerDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Consilium API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/start.js"></script>
</body>
</html>
`;

// "Try it out" runs in the signed-in admin's browser: a write must echo the CSRF cookie, as the console does.
const start = `window.ui = SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  requestInterceptor: function (req) {
    var m = document.cookie.match(/(?:^|; )consilium_csrf=([^;]*)/);
    if (m && req.method && req.method.toUpperCase() !== 'GET') req.headers['x-csrf-token'] = decodeURIComponent(m[1]);
    return req;
  },
});
`;

const assets: Record<string, { type: string; load: () => Promise<Buffer> }> = {
  'swagger-ui.css': { type: 'text/css; charset=utf-8', load: () => fs.readFile(path.join(swaggerDir, 'swagger-ui.css')) },
  'swagger-ui-bundle.js': { type: 'text/javascript; charset=utf-8', load: () => fs.readFile(path.join(swaggerDir, 'swagger-ui-bundle.js')) },
  'start.js': { type: 'text/javascript; charset=utf-8', load: async () => Buffer.from(start) },
};
const assetNameSchema = z.enum(Object.keys(assets) as [string, ...string[]], { error: 'not a file of the reference page' });

/** Mounted at `/api`; `app` is the whole server, whose routes the document describes. */
export function openApiRoutes(deps: { app: Hono<AppEnv>; version: string }) {
  // The routes are all registered before the first request: the document is built once.
  let built: Promise<unknown> | undefined;
  const loaded = new Map<string, Promise<Buffer>>();
  return new Hono<AppEnv>()
    .get('/openapi.json', doc({ tag: 'Operations', summary: 'This OpenAPI 3.1 document', access: 'public', response: 'The OpenAPI 3.1 document of every REST route.' }), async (c) => {
      built ??= buildOpenApiDocument(deps.app, { version: deps.version }).catch((err) => {
        built = undefined;
        throw err;
      });
      return c.json(await built);
    })
    .get('/docs', doc({ tag: 'Operations', summary: 'The API reference page', access: 'public', response: { text: 'An HTML page (Swagger UI) that renders /api/openapi.json.' } }), (c) =>
      c.html(page),
    )
    .get(
      '/docs/:asset',
      doc({ tag: 'Operations', summary: "The reference page's script and style", access: 'public', params: { asset: assetNameSchema }, response: { text: 'The JavaScript or CSS file.' } }),
      async (c) => {
        // Anything else (a source map the browser's tools ask for) is simply not here.
        const name = c.req.param('asset');
        const asset = Object.hasOwn(assets, name) ? assets[name] : undefined;
        if (!asset) throw new ConsiliumError(ErrorCode.NotFound, 'no such file of the reference page', 404);
        if (!loaded.has(name)) loaded.set(name, asset.load());
        c.header('Cache-Control', 'public, max-age=3600');
        return c.body((await loaded.get(name)!) as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': asset.type });
      },
    );
}
