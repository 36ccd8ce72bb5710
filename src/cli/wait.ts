// Waiting on the agent without trusting timing: a turn is over when its response.done arrives
// (or the session fails), and only then do we ask for idle (the summariser may run next).
import type { RealtimeAgent } from '../types.js';

/** Resolves at the next response.done, error or close (whichever comes first). */
export function nextResponseDone(agent: RealtimeAgent): Promise<string> {
  return new Promise((resolve) => {
    const offs: Array<() => void> = [];
    const finish = (why: string) => {
      offs.forEach((f) => f());
      resolve(why);
    };
    offs.push(agent.on('response.done', (e) => finish(e.status)));
    offs.push(agent.on('error', (e) => (e.fatal ? finish('error') : undefined)));
    offs.push(agent.on('closed', () => finish('closed')));
  });
}
