// The user's turns and audio: straight to the session (text, commit) or the socket (audio) while it
// is live, held in order while the connection switches and released once the next session is live.
import type { AnyActorRef } from 'xstate';
import { AgentError } from '../errors.js';
import type { RealtimeTransport } from '../protocol/transport.js';
import { createHoldBuffer, type Held } from './hold-buffer.js';

export interface UserInputDeps {
  /** The session actor (USER.TEXT, USER.COMMIT). */
  actor: Pick<AnyActorRef, 'send' | 'getSnapshot'>;
  transport: () => RealtimeTransport | null;
  live: () => boolean;
  log: (line: string) => void;
  error: (e: AgentError) => void;
}

export interface UserInput {
  sendText(text: string): void;
  appendAudio(pcm: Buffer): void;
  commitAudio(): void;
  /** Delivers what was held (call once the session is live). */
  release(): void;
  /** Texts and commits held for the next connection: turns still to answer. */
  readonly heldTurns: number;
}

export function createUserInput(d: UserInputDeps): UserInput {
  const held = createHoldBuffer(() => d.log('audio buffer full while reconnecting: dropping the oldest audio'));
  const hold = (h: Held) => {
    if (d.actor.getSnapshot().status !== 'active') {
      if (h.kind !== 'audio') d.error(new AgentError('socket_closed', 'the session has ended: the turn was not sent (start a new session)'));
      return;
    }
    held.hold(h);
  };
  // Nothing overtakes what is held: once something is held, later input queues behind it.
  const direct = () => d.live() && held.size === 0;
  return {
    get heldTurns() {
      return held.turns;
    },
    sendText(text) {
      if (direct()) d.actor.send({ type: 'USER.TEXT', text });
      else hold({ kind: 'text', text });
    },
    appendAudio(pcm) {
      const t = d.transport();
      if (direct() && t?.isOpen) t.sendAudio(pcm);
      else hold({ kind: 'audio', pcm: Buffer.from(pcm) });
    },
    commitAudio() {
      if (direct()) d.actor.send({ type: 'USER.COMMIT' });
      else hold({ kind: 'commit' });
    },
    release() {
      for (const h of held.drain()) {
        if (h.kind === 'audio') d.transport()?.sendAudio(h.pcm);
        else if (h.kind === 'commit') d.actor.send({ type: 'USER.COMMIT' });
        else d.actor.send({ type: 'USER.TEXT', text: h.text });
      }
    },
  };
}
