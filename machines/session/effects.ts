// Turns what the pure mirror reducer decided into XState actions (emit, spawn or feed a transcript
// hunt, raise the derived response events), and the pure helpers the session's actions share.
import type { Reduced, MirrorState } from '../../src/conversation/mirror-reducer.js';
import { usageCost } from '../../src/conversation/costs.js';
import { OUTPUT_AUDIO_TOKENS_PER_SECOND } from '../../src/conversation/tokens.js';
import { AgentError, oneLine } from '../../src/errors.js';
import type { SessionContext, SessionEmitted, SessionEvent } from './types.js';

// enqueueActions' `enqueue` type is deep; this narrow shape is what the session's actions use.
export interface Enqueue {
  assign(a: Partial<SessionContext>): void;
  emit(e: SessionEmitted): void;
  sendTo(to: string, e: unknown): void;
  raise(e: SessionEvent): void;
  spawnChild(src: 'transcript', opts: { id: string; input: unknown }): void;
  stopChild(id: string): void;
}
export const asEnqueue = (enqueue: unknown) => enqueue as Enqueue;

export const huntId = (itemId: string) => `transcript.${itemId}`;

export function mirrorOf(c: SessionContext): MirrorState {
  return { turns: c.mirror, early: c.early, hunting: c.hunting, oob: c.oobResponses };
}

/**
 * Applies a reducer result: the context gets the new mirror, each effect becomes an action.
 * Returns the context patch (so a caller can add to it before the single assign).
 */
export function applyReduced(context: SessionContext, r: Reduced, enqueue: Enqueue, collecting: () => boolean): void {
  // Only what changed (the reducer returns the same objects for untouched parts).
  const patch: Partial<SessionContext> = {};
  if (r.mirror.turns !== context.mirror) patch.mirror = r.mirror.turns as SessionContext['mirror'];
  if (r.mirror.early !== context.early) patch.early = r.mirror.early as SessionContext['early'];
  if (r.mirror.hunting !== context.hunting) patch.hunting = r.mirror.hunting as SessionContext['hunting'];
  if (r.mirror.oob !== context.oobResponses) patch.oobResponses = r.mirror.oob as SessionContext['oobResponses'];
  let turnsChanged = false;
  const raised: SessionEvent[] = [];
  for (const e of r.effects) {
    switch (e.type) {
      case 'turn':
        turnsChanged = true;
        enqueue.emit({ type: 'turn', turn: e.turn });
        break;
      case 'transcript':
        enqueue.emit({ type: 'transcript', transcript: e.transcript });
        break;
      case 'deleted': {
        const { [e.id]: _gone, ...audioMs } = patch.audioMs ?? context.audioMs;
        patch.audioMs = audioMs;
        turnsChanged = true;
        enqueue.emit({ type: 'deleted', id: e.id });
        break;
      }
      case 'hunt.start': {
        const p = context.input.policy;
        enqueue.spawnChild('transcript', {
          id: huntId(e.itemId),
          input: { itemId: e.itemId, maxAttempts: p.transcriptMaxAttempts, backoffMs: p.transcriptBackoffMs, awaitMs: Math.max(p.transcriptWaitMs, 1000) },
        });
        for (const ev of e.replay) enqueue.sendTo(huntId(e.itemId), ev);
        break;
      }
      case 'hunt.send':
        enqueue.sendTo(huntId(e.itemId), e.event);
        break;
      case 'hunt.stop':
        enqueue.stopChild(huntId(e.itemId));
        break;
      case 'response.created':
        enqueue.emit({ type: 'response', phase: 'created', responseId: e.responseId });
        raised.push({ type: 'RESPONSE.CREATED', responseId: e.responseId });
        break;
      case 'response.done': {
        const usage = e.usage;
        const window = typeof usage?.total_tokens === 'number' ? usage.total_tokens : context.window;
        const costUsd = context.costUsd + usageCost(usage, context.session?.model ?? context.input.model);
        patch.window = window;
        patch.costUsd = costUsd;
        patch.cachedTokens = usage?.input_token_details?.cached_tokens ?? context.cachedTokens;
        // Output audio nobody measured (realtime-proxy forwards audio deltas unseen): its length from
        // the audio tokens the server billed, so the fold plan counts what the items really weigh.
        const audioTokens = usage?.output_token_details?.audio_tokens ?? 0;
        const unmeasured = e.audioItems.filter((id) => (patch.audioMs ?? context.audioMs)[id] === undefined);
        if (audioTokens > 0 && unmeasured.length) {
          const ms = Math.round(((audioTokens / e.audioItems.length) * 1000) / OUTPUT_AUDIO_TOKENS_PER_SECOND);
          patch.audioMs = { ...(patch.audioMs ?? context.audioMs), ...Object.fromEntries(unmeasured.map((id) => [id, ms])) };
        }
        enqueue.emit({ type: 'response', phase: 'done', responseId: e.responseId, status: e.status });
        if (usage) {
          const { triggerTokens: trigger, targetTokens: target } = context.input.policy;
          enqueue.emit({ type: 'window', window: { tokens: window, trigger, target, usage, costUsd, responseId: e.responseId } });
        }
        if (e.failure) {
          enqueue.emit({
            type: 'error',
            error: new AgentError('server_error', `the response failed (${e.failure.code}: ${oneLine(e.failure.message)}); the session continues`, false, e.failure.code === 'unknown' ? null : e.failure.code),
          });
        }
        // Transcripts still missing now get fetched (the retrieve loop), as the seed intended.
        for (const id of r.mirror.hunting) enqueue.sendTo(huntId(id), { type: 'FETCH' });
        raised.push({ type: 'RESPONSE.DONE', responseId: e.responseId });
        break;
      }
      default: {
        const unhandled: never = e;
        throw new Error(`unhandled mirror effect ${JSON.stringify(unhandled)}`);
      }
    }
  }
  if (Object.keys(patch).length) enqueue.assign(patch);
  // Only a collecting summariser uses the turns (it waits for pending transcripts); asked only then.
  if (turnsChanged && collecting()) enqueue.sendTo('summariser', { type: 'TURNS', turns: r.mirror.turns });
  for (const e of raised) enqueue.raise(e);
}

/** One owner: src/errors.ts (re-exported for the session's modules). */
export { oneLine };

export const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Longest timer delay (setTimeout's limit): "never" for sessions without an expiry. */
export const NEVER = 2 ** 31 - 1;

/** Milliseconds until the rollover should start: `rolloverMarginMs` before `expires_at`. */
export function rolloverDelay(context: SessionContext): number {
  const exp = context.session?.expiresAt;
  const margin = context.input.rolloverMarginMs;
  const clock = context.input.clock;
  if (!exp || margin === undefined || !clock) return NEVER;
  return Math.min(NEVER, Math.max(0, exp * 1000 - margin - clock.now()));
}

/** Exponential back-off with jitter for drops (attempt 1 = base); planned switches go at once. */
export function backoffDelay(context: SessionContext, attempt: number): number {
  const r = context.input.reconnect ?? { maxAttempts: 0, baseDelayMs: 500, maxDelayMs: 10_000 };
  const jitter = context.input.random?.() ?? 0.5;
  return Math.round(Math.min(r.maxDelayMs, r.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + jitter / 2));
}
