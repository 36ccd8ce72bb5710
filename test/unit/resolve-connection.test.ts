import { describe, expect, it } from 'vitest';
import { OPENAI_REALTIME_URL } from '../../adapters/realtime-socket.js';
import { resolveConnection } from '../../src/agent.js';
import { AgentError } from '../../src/errors.js';

function errorOf(fn: () => unknown): AgentError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AgentError);
    return e as AgentError;
  }
  throw new Error('expected an AgentError');
}

describe('resolveConnection: OpenAI default', () => {
  it('uses the GA endpoint, gpt-realtime and the ga dialect with a key', () => {
    expect(resolveConnection({ connection: { apiKey: 'sk-abc' } })).toEqual({
      url: OPENAI_REALTIME_URL,
      apiKey: 'sk-abc',
      model: 'gpt-realtime',
      dialect: 'ga',
      azure: false,
    });
  });

  it('takes the model and dialect given', () => {
    const r = resolveConnection({ connection: { apiKey: 'k', model: 'gpt-realtime-mini', dialect: 'beta' } });
    expect(r).toMatchObject({ model: 'gpt-realtime-mini', dialect: 'beta' });
  });

  it('fails fatally without a key, naming the fix', () => {
    for (const opts of [{}, { connection: {} }]) {
      const e = errorOf(() => resolveConnection(opts));
      expect(e.code).toBe('missing_api_key');
      expect(e.fatal).toBe(true);
      expect(e.message).toMatch(/OPENAI_API_KEY/);
    }
  });
});

describe('resolveConnection: explicit URL', () => {
  it('accepts ws:// without a key and derives the chat base URL', () => {
    const r = resolveConnection({ connection: { url: 'ws://localhost:8080/v1/realtime' } });
    expect(r).toEqual({
      url: 'ws://localhost:8080/v1/realtime',
      apiKey: undefined,
      model: 'gpt-realtime',
      dialect: 'ga',
      azure: false,
      summaryBaseURL: 'http://localhost:8080/v1',
    });
  });

  it('maps http: to ws: and https: to wss:', () => {
    expect(resolveConnection({ connection: { url: 'http://127.0.0.1:9000/v1/realtime' } }).url).toBe('ws://127.0.0.1:9000/v1/realtime');
    const r = resolveConnection({ connection: { url: 'https://example.com/v1/realtime/' } });
    expect(r.url).toBe('wss://example.com/v1/realtime/');
    expect(r.summaryBaseURL).toBe('https://example.com/v1');
  });

  it('keeps the query string', () => {
    expect(resolveConnection({ connection: { url: 'ws://h:1/v1/realtime?model=m' } }).url).toBe('ws://h:1/v1/realtime?model=m');
  });

  it('needs a key for api.openai.com and then uses the SDK default base URL', () => {
    expect(errorOf(() => resolveConnection({ connection: { url: 'wss://api.openai.com/v1/realtime' } })).code).toBe('missing_api_key');
    const r = resolveConnection({ connection: { url: 'wss://api.openai.com/v1/realtime', apiKey: 'k' } });
    expect(r.summaryBaseURL).toBeUndefined();
    expect(r.azure).toBe(false);
  });

  it('rejects a string that is not a URL', () => {
    const e = errorOf(() => resolveConnection({ connection: { url: 'my realtime server' } }));
    expect(e.code).toBe('bad_input');
    expect(e.fatal).toBe(true);
    expect(e.message).toMatch(/not a URL/);
  });

  it('rejects an unsupported scheme', () => {
    const e = errorOf(() => resolveConnection({ connection: { url: 'ftp://example.com/v1/realtime' } }));
    expect(e.code).toBe('bad_input');
    expect(e.message).toMatch(/unsupported URL scheme ftp:/);
  });
});

describe('resolveConnection: Azure', () => {
  const azure = { azureEndpoint: 'https://res.openai.azure.com/', azureDeployment: 'my deploy', apiKey: 'azurekey' };

  it('GA: /openai/v1/realtime with the deployment as model, key in api-key', () => {
    const r = resolveConnection({ connection: azure });
    expect(r).toEqual({
      url: 'wss://res.openai.azure.com/openai/v1/realtime?model=my%20deploy',
      apiKey: 'azurekey',
      model: 'my deploy',
      dialect: 'ga',
      azure: true,
      summaryBaseURL: 'https://res.openai.azure.com/openai/v1',
    });
  });

  it('beta: the preview path with api-version and deployment', () => {
    const r = resolveConnection({ connection: { ...azure, dialect: 'beta' } });
    expect(r.url).toBe('wss://res.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=my%20deploy');
    expect(r.dialect).toBe('beta');
  });

  it('an explicit model wins over the deployment name', () => {
    expect(resolveConnection({ connection: { ...azure, model: 'gpt-realtime' } }).model).toBe('gpt-realtime');
  });

  it('needs a deployment and a key', () => {
    const noDeploy = errorOf(() => resolveConnection({ connection: { azureEndpoint: azure.azureEndpoint, apiKey: 'k' } }));
    expect(noDeploy.code).toBe('bad_input');
    expect(noDeploy.message).toMatch(/deployment/);
    const noKey = errorOf(() => resolveConnection({ connection: { ...azure, apiKey: undefined } }));
    expect(noKey.code).toBe('missing_api_key');
    expect(noKey.message).toMatch(/AZURE_OPENAI_API_KEY/);
  });

  it('takes precedence over an explicit URL', () => {
    expect(resolveConnection({ connection: { ...azure, url: 'ws://localhost:1/v1/realtime' } }).azure).toBe(true);
  });
});
