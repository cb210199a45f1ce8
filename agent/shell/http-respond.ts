/**
 * Small helpers to answer HTTP requests consistently (JSON, text, problems).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HotdeskError } from '../core/errors.js';
import { HTTP_STATUS, problemBody } from './http-errors.js';
import { recordRefusal } from './metrics.js';

/** Sends a coded error as `application/problem+json`. */
export function sendError(res: ServerResponse, err: HotdeskError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  recordRefusal('http', err.code);
  const body = problemBody(err);
  res.writeHead(HTTP_STATUS[err.code], { 'Content-Type': 'application/problem+json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Sends a JSON value. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

/** Sends text with a content type. */
export function sendText(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

/** Reads a request body up to `limit` bytes; throws `too-large` beyond. */
export function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        done = true;
        req.resume();
        reject(new HotdeskError('too-large', `request body over ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks));
      }
    });
    req.on('error', (e) => {
      if (!done) {
        done = true;
        reject(new HotdeskError('bad-request', 'request aborted', {}, { cause: e }));
      }
    });
  });
}
