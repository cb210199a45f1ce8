/**
 * The hot-desk line's registrar, shell side (RFC 3261 §10.3): the pure
 * decision is protocols/sip-registrar.ts; this keeps the binding in the store
 * (one per line), where the sync worker reads it: a registered line's
 * source address and port are where check-sync NOTIFYs for that phone go
 * (docs/voice.md "Check-sync through the line").
 */
import { DEFAULT_REGISTRAR_LIMITS, processRegister, type RegistrarBinding } from '../../protocols/sip-registrar.js';
import type { SipRequest } from '../../protocols/sip-message.js';
import type { SipSource } from '../../protocols/sip-response-builder.js';
import type { StoreData } from '../../store/store-api.js';
import type { LineRegistration, LineRegistrationChange } from '../../store/store-types.js';

/** Inputs of {@link handleRegister}: an authenticated REGISTER for `mac`'s line. */
export interface RegisterRequest {
  readonly store: Pick<StoreData, 'getHotdeskLine' | 'setLineRegistration'>;
  readonly request: SipRequest;
  readonly source: SipSource;
  readonly mac: string;
  readonly username: string;
  /** Epoch ms. */
  readonly now: number;
  readonly userAgent: string;
  readonly toTag: string;
}

function toBinding(r: LineRegistration): RegistrarBinding {
  return {
    contact: r.contact,
    expiresAt: r.expiresAt,
    callId: r.callId,
    cseq: r.cseq,
    address: r.address,
    port: r.port,
    transport: r.transport,
    userAgent: r.userAgent ?? '',
  };
}

function toRegistration(b: RegistrarBinding, now: number): LineRegistration {
  return {
    contact: b.contact,
    address: b.address,
    port: b.port,
    transport: b.transport === 'tcp' ? 'tcp' : 'udp',
    ...(b.userAgent !== '' ? { userAgent: b.userAgent } : {}),
    callId: b.callId,
    cseq: b.cseq,
    registeredAt: now,
    expiresAt: b.expiresAt,
  };
}

/** Processes the REGISTER and stores the line's new binding; returns the answer to send and what changed. */
export async function handleRegister(r: RegisterRequest): Promise<{ status: number; response: string; change: LineRegistrationChange }> {
  const current = (await r.store.getHotdeskLine(r.mac))?.registration ?? null;
  const result = processRegister({
    request: r.request,
    username: r.username,
    source: { ...r.source, transport: 'udp' },
    current: current ? toBinding(current) : null,
    now: r.now,
    limits: DEFAULT_REGISTRAR_LIMITS,
    toTag: r.toTag,
    headers: [{ name: 'Server', value: r.userAgent }],
  });
  let change: LineRegistrationChange = 'unchanged';
  if (result.change === 'bound' || result.change === 'refreshed')
    change = await r.store.setLineRegistration(r.mac, toRegistration(result.binding as RegistrarBinding, r.now), r.now);
  else if (result.change === 'removed') change = await r.store.setLineRegistration(r.mac, null, r.now);
  return { status: result.status, response: result.response, change };
}
