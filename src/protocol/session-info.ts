// What the agent knows of the session it is connected to (from session.created and its own options).
import type { Dialect } from './events.js';

export interface SessionInfo {
  id: string;
  model: string;
  expiresAt: number | null;
  url: string;
  dialect: Dialect;
}
