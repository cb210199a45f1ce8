// The phones' SIP side for the login storm: one UDP socket on 127.0.0.1
// plays every phone (all phones fetched their files from 127.0.0.1, so the
// agent sends every check-sync NOTIFY to 127.0.0.1:<phone SIP port>, 5060
// unless the store learned another port). Each NOTIFY is answered 200 OK
// (RFC 3261 §8.2.6: Via, From, To + tag, Call-ID and CSeq copied) and its
// arrival time is reported with the Request-URI user, which is the SIP user
// now on that phone (or its device account / MAC after a logout).
import dgram from 'node:dgram';

function headerLines(text) {
  const end = text.indexOf('\r\n\r\n');
  return (end >= 0 ? text.slice(0, end) : text).split('\r\n');
}

/** Builds the 200 OK for a request (exported for reuse in tests of the bench itself). */
export function okFor(text) {
  const lines = headerLines(text);
  const keep = [];
  for (const l of lines.slice(1)) {
    const name = l.slice(0, l.indexOf(':')).trim().toLowerCase();
    if (name === 'via' || name === 'v' || name === 'from' || name === 'f' || name === 'call-id' || name === 'i' || name === 'cseq') keep.push(l);
    else if (name === 'to' || name === 't') keep.push(/;\s*tag=/i.test(l) ? l : `${l};tag=bench${Math.floor(Math.random() * 1e9).toString(36)}`);
  }
  return `SIP/2.0 200 OK\r\n${keep.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
}

/**
 * Binds the phone socket. `onNotify({ user, event, at })` is called for every
 * NOTIFY (at = performance.now() on arrival, before the answer is sent).
 */
export function startSipPhones({ port, host = '127.0.0.1', onNotify }) {
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  let notifies = 0;
  sock.on('message', (msg, rinfo) => {
    const at = performance.now();
    const text = msg.toString('utf8');
    if (!text.startsWith('NOTIFY ')) {
      if (!text.startsWith('SIP/2.0')) sock.send(okFor(text).replace('200 OK', '501 Not Implemented'), rinfo.port, rinfo.address);
      return;
    }
    notifies++;
    const user = /^NOTIFY\s+sips?:([^@;>\s]+)@/i.exec(text)?.[1] ?? '';
    const event = /\r\n(?:Event|o)\s*:\s*([^\r\n]*)/i.exec(text)?.[1]?.trim() ?? '';
    sock.send(okFor(text), rinfo.port, rinfo.address);
    onNotify?.({ user: decodeURIComponent(user), event, at });
  });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, host, () => {
      sock.off('error', reject);
      resolve({
        get notifies() {
          return notifies;
        },
        close: () => new Promise((r) => sock.close(() => r())),
      });
    });
  });
}
