// The agent's options, checked and turned into what the session machine is given: the policy, the
// tool registry and the session input (defaults for reconnect and rollover, the clock, a resume's seed).
import type { SessionInput } from '../../machines/session.machine.js';
import { resolvePolicy } from '../conversation/policy.js';
import { resolveStrategy } from '../conversation/strategy.js';
import type { PolicyOptions } from '../conversation/context-strategy.js';
import { buildSessionConfig } from '../protocol/session-config.js';
import type { ResumePlan } from '../store/resume.js';
import { createToolRegistry, type ToolRegistry } from '../tools/registry.js';
import { AgentError } from '../errors.js';
import type { ResolvedConnection } from './connection.js';
import type { AgentOptions } from './options.js';

/** The policy and the tools, or a one-line bad_input AgentError naming the fix. */
export function resolvePolicyAndTools(options: AgentOptions): { policy: PolicyOptions; tools: ToolRegistry | null } {
  let policy: PolicyOptions;
  try {
    policy = resolvePolicy(options.policy);
  } catch (e) {
    throw new AgentError('bad_input', `invalid policy: ${(e as Error).message}`, true);
  }
  if (options.toolTimeoutMs !== undefined && !(options.toolTimeoutMs > 0)) throw new AgentError('bad_input', 'toolTimeoutMs must be a positive number of milliseconds', true);
  const tools: ToolRegistry | null = options.tools !== undefined ? createToolRegistry(options.tools, options.toolTimeoutMs) : null;
  const choice = options.toolChoice;
  if (choice !== undefined && !(['auto', 'none', 'required'] as unknown[]).includes(choice) && !(typeof choice === 'object' && choice?.type === 'function' && tools?.names.includes(choice.name))) {
    throw new AgentError('bad_input', `toolChoice must be "auto", "none", "required" or { type: "function", name } naming one of the tools (${tools?.names.join(', ') || 'none given'})`, true);
  }
  return { policy, tools };
}

export function sessionInputOf(conn: ResolvedConnection, options: AgentOptions, policy: PolicyOptions, tools: ToolRegistry | null, plan: ResumePlan | null): SessionInput {
  return {
    url: conn.url,
    dialect: conn.dialect,
    model: conn.model,
    sessionConfig: buildSessionConfig(options.session, tools ? { declarations: tools.declarations, toolChoice: options.toolChoice } : undefined),
    tools: tools ? { timeouts: tools.timeouts, defaultTimeoutMs: tools.defaultTimeoutMs } : undefined,
    policy,
    strategy: resolveStrategy(policy.strategy),
    connectTimeoutMs: options.connection?.connectTimeoutMs,
    reconnect: options.reconnect === false ? undefined : {
      maxAttempts: options.reconnect?.maxAttempts ?? 5,
      baseDelayMs: options.reconnect?.baseDelayMs ?? 500,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 10_000,
    },
    rolloverMarginMs: options.rolloverMarginMs === false ? undefined : options.rolloverMarginMs ?? 5 * 60_000,
    responseTimeoutMs: options.responseTimeoutMs,
    observer: options.observer, // realtime-proxy: the client owns the turns
    // The machine reads time and randomness only through these (deterministic under test).
    clock: { now: () => Date.now() },
    random: Math.random,
    // Resume: the store's latest summary and the turns it does not cover seed the first session.
    ...(plan ? { seed: plan.seed ?? undefined, firstGeneration: plan.firstGeneration, firstSummaryNumber: plan.firstSummaryNumber } : {}),
  };
}
