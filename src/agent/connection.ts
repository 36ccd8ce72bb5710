// Where to connect, from the options: explicit URL, Azure, or OpenAI's GA endpoint. Bad input is a
// one-line AgentError naming the fix.
import { OPENAI_REALTIME_URL } from '../../adapters/realtime-socket.js';
import { AgentError } from '../errors.js';
import type { AgentOptions } from './options.js';

export interface ResolvedConnection {
  url: string;
  apiKey?: string;
  model: string;
  dialect: 'ga' | 'beta';
  azure: boolean;
  summaryBaseURL?: string;
}

/** Where to connect, from the options: explicit URL, Azure, or OpenAI's GA endpoint. */
export function resolveConnection(o: AgentOptions): ResolvedConnection {
  const c = o.connection ?? {};
  const model = c.model ?? c.azureDeployment ?? 'gpt-realtime';
  const dialect = c.dialect ?? 'ga';
  if (c.azureEndpoint) {
    if (!c.azureDeployment) throw new AgentError('bad_input', 'Azure needs a deployment name: set --azure-deployment', true);
    const base = c.azureEndpoint.replace(/\/+$/, '').replace(/^http/, 'ws');
    const url = dialect === 'beta'
      ? `${base}/openai/realtime?api-version=2025-04-01-preview&deployment=${encodeURIComponent(c.azureDeployment)}`
      : `${base}/openai/v1/realtime?model=${encodeURIComponent(c.azureDeployment)}`;
    if (!c.apiKey) throw new AgentError('missing_api_key', 'no Azure key: set AZURE_OPENAI_API_KEY (or --api-key)', true);
    return { url, apiKey: c.apiKey, model, dialect, azure: true, summaryBaseURL: `${c.azureEndpoint.replace(/\/+$/, '')}/openai/v1` };
  }
  if (c.url) {
    let u: URL;
    try {
      u = new URL(c.url);
    } catch {
      throw new AgentError('bad_input', `not a URL: ${JSON.stringify(c.url)}: give a ws:// or wss:// URL such as wss://api.openai.com/v1/realtime`, true);
    }
    if (!['ws:', 'wss:', 'http:', 'https:'].includes(u.protocol)) {
      throw new AgentError('bad_input', `unsupported URL scheme ${u.protocol} in --url: use ws:// or wss://`, true);
    }
    if (u.protocol === 'http:') u.protocol = 'ws:';
    if (u.protocol === 'https:') u.protocol = 'wss:';
    const isOpenAI = u.hostname === 'api.openai.com';
    if (isOpenAI && !c.apiKey) throw new AgentError('missing_api_key', 'no API key for api.openai.com: set OPENAI_API_KEY (or --api-key), or drop --url to use the built-in emulator', true);
    const httpBase = `${u.protocol === 'wss:' ? 'https:' : 'http:'}//${u.host}${u.pathname.replace(/\/realtime\/?$/, '')}`;
    return { url: u.toString(), apiKey: c.apiKey, model, dialect, azure: false, summaryBaseURL: isOpenAI ? undefined : httpBase };
  }
  if (!c.apiKey) throw new AgentError('missing_api_key', 'no API key: set OPENAI_API_KEY (or --api-key), or give --url for a compatible server', true);
  return { url: OPENAI_REALTIME_URL, apiKey: c.apiKey, model, dialect, azure: false };
}
