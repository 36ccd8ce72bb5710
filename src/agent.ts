// Composition root: wires machines + adapters. (Being written by the engine work; signature is final.)
import type { AgentOptions, RealtimeAgent } from './types.js';

export function createRealtimeAgent(_options: AgentOptions = {}): RealtimeAgent {
  throw new Error('createRealtimeAgent: engine not built yet');
}
