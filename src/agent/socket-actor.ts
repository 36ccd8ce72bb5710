// The session's socket actor: opens the transport for each connection, reports its lifecycle to the
// session, and routes each server event by the protocol registry: control-plane events to the
// machine, audio-plane events straight to the audio plane (never through a machine).
import { fromCallback } from 'xstate';
import { connectionTarget } from '../../adapters/realtime-socket.js';
import type { Recorder } from '../../adapters/recorder.js';
import type { SocketCommand } from '../../machines/session.machine.js';
import { routeOf, type AudioPlaneEventType } from '../protocol/event-registry.js';
import type { WireEvent } from '../protocol/events.js';
import type { RealtimeTransport, TransportFactory } from '../protocol/transport.js';
import type { AudioPlane } from './audio-plane.js';
import type { ResolvedConnection } from './connection.js';
import type { AgentEvents } from './handle.js';
import type { AgentOptions } from './options.js';

export interface SocketActorDeps {
  conn: ResolvedConnection;
  options: Pick<AgentOptions, 'connection' | 'keepaliveMs'>;
  openTransport: TransportFactory;
  recorder: Recorder | null;
  plane: Pick<AudioPlane, 'audio' | 'event'>;
  onClosed: (c: AgentEvents['closed']) => void;
  /** The transport of the current connection (the agent sends audio and raw events on it). */
  onTransport: (t: RealtimeTransport) => void;
  log: (line: string) => void;
}

export function createSocketActor(d: SocketActorDeps) {
  const { conn, options, plane, log } = d;
  return fromCallback<SocketCommand, { url: string }>(({ sendBack, receive }) => {
    const t = d.openTransport({
      url: conn.url,
      apiKey: conn.apiKey,
      model: conn.model,
      dialect: conn.dialect,
      azure: conn.azure,
      ca: options.connection?.ca,
      connectTimeoutMs: options.connection?.connectTimeoutMs,
      keepaliveMs: options.keepaliveMs,
      log,
    });
    d.recorder?.connect({
      url: connectionTarget({ url: conn.url, model: conn.model, dialect: conn.dialect, azure: conn.azure, apiKey: conn.apiKey }).url,
      dialect: conn.dialect,
      auth: !conn.apiKey ? 'none' : conn.azure ? 'api-key' : 'bearer',
    });
    d.onTransport(t);
    t.on('open', () => sendBack({ type: 'SOCKET.OPEN' }));
    t.on('failure', (error) => sendBack({ type: 'SOCKET.FAILED', error }));
    t.on('close', ({ code, reason }) => {
      d.onClosed({ code, reason });
      sendBack({ type: 'SOCKET.CLOSED', code, reason });
    });
    t.on('audio', (a) => plane.audio(a));
    t.on('event', (ev: WireEvent) => {
      const route = routeOf(ev.type);
      if (route === 'audio') plane.event(ev as WireEvent & { type: AudioPlaneEventType });
      else if (route === 'session' || route === 'mirror') sendBack({ type: 'SERVER.EVENT', event: ev });
      else if (route === undefined) log(`ignored unknown server event type ${JSON.stringify(ev.type.slice(0, 80))}`);
    });
    receive((cmd) => {
      if (cmd.type === 'SEND') t.send(cmd.event);
      else t.close(cmd.code, cmd.reason);
    });
    return () => {
      t.removeAllListeners();
      t.on('error', () => {});
      t.close();
    };
  });
}
