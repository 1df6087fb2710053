// The ceiling for bench/api-server.mjs: a bare node:http server answering the same JSON bodies, with no
// routing library, validation, authentication or storage.
import { createServer } from 'node:http';

const one = process.env.ONE;
const page = process.env.PAGE;
const server = createServer((req, res) => {
  if (req.method === 'POST') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString());
      const answer = JSON.stringify({
        request_id: '00000000-0000-4000-8000-000000000000',
        sessions: body.sessions,
        errors: [],
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
    });
    return;
  }
  res
    .writeHead(200, { 'content-type': 'application/json' })
    .end(req.url.includes('max_results') ? page : one);
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
