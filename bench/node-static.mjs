// The second HTTP reference: a bare `node:http` server (this machine's Node, one process, one
// thread) answering GET /<name> with the bytes of `<root>/<name>`, all read into memory at start.
// No routing library, no authentication, no logging: the most any HTTP server built on Node's own
// HTTP stack can do on this machine, so the agent's distance from nginx splits into what Node
// itself costs and what the agent adds.
//
//   node bench/node-static.mjs ROOT PORT      (prints "ready" once it listens)
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';

const [root, port] = process.argv.slice(2);
if (!root || !port) {
  console.error('usage: node bench/node-static.mjs ROOT PORT');
  process.exit(2);
}
const files = new Map();
for (const name of readdirSync(root)) files.set(`/${name}`, readFileSync(join(root, name)));
const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
  const body = req.method === 'GET' ? files.get(req.url) : undefined;
  if (body === undefined) {
    res.writeHead(404, { 'content-length': 0 }).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
});
server.listen(Number(port), '127.0.0.1', () => console.log(`ready: ${files.size} files`));
