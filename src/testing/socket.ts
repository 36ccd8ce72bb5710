// A scripted socket double for the session machine's `realtimeSocket` actor: the server is a script
// (data): what it sends when the socket opens, and for each client event it expects, the server
// events it answers with. Every command the session sends is recorded per connection, and the test
// can also play the server by hand (push an event, close with a code, fail the socket).
import { fromCallback, type CallbackActorLogic, type EventObject } from 'xstate';
import type { SocketCommand, SocketReport } from '../../machines/session.machine.js';
import type { WireEvent } from '../protocol/events.js';
import { AgentError, type AgentErrorCode } from '../errors.js';

/** Matches a client event: its type, a partial shape (deep-equal on the given keys), or a predicate. */
export type ClientMatch = string | Partial<WireEvent> | ((event: WireEvent) => boolean);

export interface ScriptStep {
  /** The client event this step answers. */
  expect: ClientMatch;
  /** Server events to answer with; a function gets the client event (e.g. to echo its ids). */
  reply?: WireEvent[] | ((event: WireEvent, connection: ScriptedConnection) => WireEvent[]);
  /** Close the socket after the reply (e.g. 1001 for an expired session). */
  close?: { code: number; reason?: string };
}

export interface ServerScript {
  /** Open the socket when the session connects (default true); false leaves it to `connection.open()`. */
  open?: boolean;
  /** Sent right after the socket opens, e.g. `session.created`. */
  onOpen?: WireEvent[];
  /** Expected in this order: each client event that matches the next step consumes it. */
  steps?: ScriptStep[];
  /** Standing answers, used for any client event the next step does not match (repeatable). */
  always?: ScriptStep[];
}

export interface ScriptedConnection {
  /** 0 for the first connection, +1 per reconnect or rollover. */
  index: number;
  input: unknown;
  /** Client events sent on this connection, in order. */
  sent: WireEvent[];
  /** Every command, SEND and CLOSE. */
  commands: SocketCommand[];
  /** Client events that matched neither the next step nor a standing answer. */
  unexpected: WireEvent[];
  /** Script steps not consumed yet. */
  remaining: ScriptStep[];
  opened: boolean;
  /** The actor was stopped (the session left the state that owns the socket). */
  stopped: boolean;
  /** The session sent CLOSE, or the server closed. */
  closed: boolean;
  open(): void;
  push(...events: WireEvent[]): void;
  /** The server closes the socket with a code. */
  close(code: number, reason?: string): void;
  /** The socket fails (unreachable, timeout, auth...). */
  fail(code: AgentErrorCode, message?: string): void;
}

export interface ScriptedSocket {
  /** Pass as `sessionMachine.provide({ actors: { realtimeSocket: socket.logic } })`. */
  logic: CallbackActorLogic<SocketCommand, any, EventObject>;
  connections: ScriptedConnection[];
  /** The newest connection (throws when the session never connected). */
  current(): ScriptedConnection;
  /** Client events over every connection, in order. */
  sent(): WireEvent[];
}

export function matches(m: ClientMatch, ev: WireEvent): boolean {
  if (typeof m === 'string') return ev.type === m;
  if (typeof m === 'function') return m(ev);
  return Object.entries(m).every(([k, v]) => JSON.stringify(ev[k]) === JSON.stringify(v));
}

/**
 * A socket double. `script` is one script for every connection, or a function of the connection index
 * (e.g. a different `session.created` after a reconnect). Server events are delivered asynchronously
 * (a microtask after the command), as a real socket would.
 */
export function scriptedSocket(script: ServerScript | ((index: number) => ServerScript) = {}): ScriptedSocket {
  const connections: ScriptedConnection[] = [];
  const logic = fromCallback<SocketCommand, any>(({ input, sendBack, receive }) => {
    const s = typeof script === 'function' ? script(connections.length) : script;
    const report = (e: SocketReport) => {
      if (!conn.stopped) sendBack(e);
    };
    const later = (f: () => void) => queueMicrotask(f);
    const conn: ScriptedConnection = {
      index: connections.length,
      input,
      sent: [],
      commands: [],
      unexpected: [],
      remaining: [...(s.steps ?? [])],
      opened: false,
      stopped: false,
      closed: false,
      open() {
        if (conn.opened) return;
        conn.opened = true;
        report({ type: 'SOCKET.OPEN' });
        for (const ev of s.onOpen ?? []) report({ type: 'SERVER.EVENT', event: ev });
      },
      push(...events) {
        for (const ev of events) report({ type: 'SERVER.EVENT', event: ev });
      },
      close(code, reason = '') {
        conn.closed = true;
        report({ type: 'SOCKET.CLOSED', code, reason });
      },
      fail(code, message = `socket failed (${code})`) {
        conn.closed = true;
        report({ type: 'SOCKET.FAILED', error: new AgentError(code, message, code !== 'unreachable' && code !== 'connect_timeout') });
      },
    };
    connections.push(conn);
    receive((cmd) => {
      conn.commands.push(cmd);
      // As the real socket adapter (src/agent.ts) does: SEND goes on the wire, any other command closes.
      if (cmd.type !== 'SEND') {
        if (!conn.closed) {
          conn.closed = true;
          later(() => report({ type: 'SOCKET.CLOSED', code: cmd.code ?? 1000, reason: cmd.reason ?? '' }));
        }
        return;
      }
      const ev = cmd.event;
      conn.sent.push(ev);
      const next = conn.remaining[0];
      let step: ScriptStep | undefined;
      if (next && matches(next.expect, ev)) step = conn.remaining.shift();
      else step = (s.always ?? []).find((a) => matches(a.expect, ev));
      if (!step) {
        conn.unexpected.push(ev);
        return;
      }
      const replies = typeof step.reply === 'function' ? step.reply(ev, conn) : step.reply ?? [];
      later(() => {
        conn.push(...replies);
        if (step!.close) conn.close(step!.close.code, step!.close.reason);
      });
    });
    if (s.open ?? true) later(() => conn.open());
    return () => {
      conn.stopped = true;
    };
  });
  return {
    logic,
    connections,
    current() {
      const c = connections.at(-1);
      if (!c) throw new Error('the session never opened a socket');
      return c;
    },
    sent: () => connections.flatMap((c) => c.sent),
  };
}
