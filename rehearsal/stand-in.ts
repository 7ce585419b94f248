import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A JSON request as a local AWS stand-in sees it. */
export interface StandInRequest {
  readonly method: string;
  /** The URL path, without the query. */
  readonly path: string;
  /** The `x-amz-target` header of JSON-protocol APIs, or "". */
  readonly target: string;
  /** The parsed JSON body; `{}` when there is none. */
  readonly body: unknown;
}

export interface StandInReply {
  readonly status: number;
  readonly body: unknown;
}

/**
 * Serves `handle` on a free port of 127.0.0.1 and resolves to its URL. The
 * server is unref'd, so it never keeps the process alive. Rehearsal
 * stand-ins start once per process: callers keep the promise.
 */
export async function startStandIn(
  handle: (request: StandInRequest) => StandInReply,
  contentType: string,
): Promise<string> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const { status, body } = handle({
      method: req.method ?? '',
      path: (req.url ?? '').split('?')[0] ?? '',
      target: String(req.headers['x-amz-target'] ?? ''),
      body: text === '' ? {} : JSON.parse(text),
    });
    res.writeHead(status, { 'content-type': contentType });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}
