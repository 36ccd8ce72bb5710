// What the session emits, delivered: every event to the journal relay, then the caller's listeners
// (errors redacted, tool results timed), the audio plane's bookkeeping and the log.
import type { SessionEmitted } from '../../machines/session.machine.js';
import { AgentError, redact } from '../errors.js';
import type { ToolCallEvent } from '../tools/types.js';
import type { AgentEventName, AgentEvents } from './handle.js';
import type { AudioPlane } from './audio-plane.js';
import type { JournalRelay } from './journal-relay.js';

export interface EmittedDeps {
  relay: JournalRelay;
  plane: Pick<AudioPlane, 'forget' | 'clear'>;
  fire: <K extends AgentEventName>(name: K, payload: AgentEvents[K]) => void;
  log: (line: string) => void;
  secrets: readonly string[];
}

/** The handler for `actor.on('*')`, and the summariser's last reported state (for the `state` event). */
export function createEmittedHandler(d: EmittedDeps): { handle(e: SessionEmitted): void; readonly summariser: string } {
  const { relay, plane, fire, log, secrets } = d;
  let summariser = 'idle';
  const toolStarted = new Map<string, number>();
  const handle = (e: SessionEmitted) => {
    relay.relay(e);
    switch (e.type) {
      case 'session':
        fire('session', e.info);
        break;
      case 'turn':
        fire('turn', e.turn);
        break;
      case 'transcript':
        fire('transcript', e.transcript);
        break;
      case 'window':
        fire('window', e.window);
        break;
      case 'summary':
        fire('summary', e.summary);
        break;
      case 'summary.skipped':
        fire('summary.skipped', { reason: e.reason });
        break;
      case 'deleted':
        plane.forget(e.id);
        break;
      case 'error':
        fire('error', new AgentError(e.error.code, redact(e.error.message, secrets), e.error.fatal, e.error.serverCode));
        break;
      case 'reconnect':
        log(`${e.reason === 'drop' ? `reconnecting (attempt ${e.attempt}) in ${e.delayMs} ms` : e.reason === 'expired' ? 'session expired: rolling over to a new session' : 'rolling over to a new session before expiry'}`);
        fire('reconnect', { attempt: e.attempt, delayMs: e.delayMs, reason: e.reason });
        break;
      case 'seeded':
        plane.clear(); // the previous session's items are gone
        fire('seeded', { id: e.id, generation: e.generation });
        break;
      case 'tool.call':
        toolStarted.set(e.callId, Date.now());
        fire('tool.call', { callId: e.callId, name: e.name, arguments: e.arguments, responseId: e.responseId });
        break;
      case 'tool.result': {
        const started = toolStarted.get(e.result.callId);
        toolStarted.delete(e.result.callId);
        const call: ToolCallEvent = { ...e.result, durationMs: started === undefined ? 0 : Date.now() - started, responseId: e.responseId };
        relay.tool(call);
        fire('tool.result', call);
        break;
      }
      case 'response':
        if (e.phase === 'created') fire('response.created', { responseId: e.responseId });
        else fire('response.done', { responseId: e.responseId, status: e.status ?? 'completed' });
        break;
      case 'summariser':
        summariser = e.state;
        break;
      case 'summary.inserted':
      case 'truncated':
        break; // journal only
    }
  };
  return {
    handle,
    get summariser() {
      return summariser;
    },
  };
}
