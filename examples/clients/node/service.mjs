// A tiny HTTP service that gates a route on a promoctl decision over OFREP.
//   PROMOCTL_URL=http://127.0.0.1:8787 [PROMOCTL_TOKEN=T] PORT=3000 node service.mjs
//   curl -H 'X-Customer-Id: acme' http://127.0.0.1:3000/settings/sso
import http from 'node:http';
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';

const baseUrl = (process.env.PROMOCTL_URL ?? 'http://127.0.0.1:8787').replace(/\/+$/, '');
const token = process.env.PROMOCTL_TOKEN;
const port = Number(process.env.PORT ?? 3000);

await OpenFeature.setProviderAndWait(
  new OFREPProvider({ baseUrl, headers: token ? [['Authorization', `Bearer ${token}`]] : undefined }),
);
const client = OpenFeature.getClient('example-service');

const server = http.createServer(async (req, res) => {
  const send = (code, body) => {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const targetingKey = req.headers['x-customer-id'];
  if (!targetingKey) return send(401, { error: 'missing X-Customer-Id' });
  if (req.method === 'GET' && req.url === '/settings/sso') {
    // Fails closed: if the sidecar is down or the feature is unknown, the default (false) wins.
    const enabled = await client.getBooleanValue('sso', false, { targetingKey });
    if (!enabled) return send(403, { error: 'SSO is not part of your plan' });
    return send(200, { customer: targetingKey, sso: 'configure your identity provider here' });
  }
  send(404, { error: 'not found' });
});

server.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port} (promoctl at ${baseUrl})`));
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => server.close(() => OpenFeature.close().then(() => process.exit(0))));
}
