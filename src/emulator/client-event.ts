// Reading one client frame of an emulated session: JSON, an object, a known `type`, a bounded
// `event_id`, no unknown top-level parameters; beta events checked and translated to GA. Answers
// the event or the error the service sends for it.
import type { RawData } from 'ws';
import { clientEventFromBeta } from '../protocol/dialect.js';
import type { WireEvent } from '../protocol/events.js';
import { MAX_JSON_DEPTH, scanFrame } from '../protocol/frame-scan.js';
import { E, type EmulatorError } from './errors.js';
import { validateBetaSession } from './session-config.js';
import { EVENT_PARAMETERS, SERVICE_CLIENT_EVENTS, isObj } from './session-protocol.js';

export type ClientFrame =
  | { ok: true; ev: WireEvent; eventId: string | null; /** The event as sent (beta shapes untranslated). */ raw: WireEvent }
  | { ok: false; error: EmulatorError; eventId: string | null };

export function readClientFrame(data: RawData, isBinary: boolean, dialect: 'ga' | 'beta'): ClientFrame {
  const fail = (error: EmulatorError, eventId: string | null = null): ClientFrame => ({ ok: false, error, eventId });
  if (isBinary) return fail(E.binaryFrame());
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
  // Bounded before anything parses or walks it: a frame thousands of levels deep is refused whole.
  if (scanFrame(buf).tooDeep) return fail(E.invalidJson(`recursion limit exceeded: the event nests deeper than ${MAX_JSON_DEPTH} levels.`));
  const text = buf.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return fail(E.invalidJson((e as Error).message));
  }
  if (!isObj(parsed)) return fail(E.invalidJson('expected a JSON object'));
  const eventId = typeof parsed.event_id === 'string' ? parsed.event_id : null;
  if (typeof parsed.type !== 'string') return fail(E.missingType(), eventId);
  if (eventId !== null && eventId.length > 512) return fail(E.stringTooLong('event_id', 512, eventId.length));
  if (!Object.hasOwn(EVENT_PARAMETERS, parsed.type)) return fail(E.invalidValue('type', parsed.type, SERVICE_CLIENT_EVENTS), eventId);
  // Unknown top-level parameters are rejected like the service does; `x_…` fields are the
  // emulator's own test hints (x_transcript_hint, x_tool_call) and are allowed.
  for (const k of Object.keys(parsed)) {
    if (k === 'type' || k === 'event_id' || k.startsWith('x_') || EVENT_PARAMETERS[parsed.type].includes(k)) continue;
    return fail(E.unknownParameter(k), eventId);
  }
  const raw = parsed as WireEvent;
  if (dialect === 'ga') return { ok: true, ev: raw, eventId, raw };
  if (raw.type === 'session.update' && raw.session !== undefined) {
    const bad = validateBetaSession(raw.session);
    if (bad) return fail(bad, eventId);
  }
  const ev = clientEventFromBeta(raw);
  if (ev.type === 'session.update' && isObj(ev.session)) delete ev.session.client_secret;
  return { ok: true, ev, eventId, raw };
}
