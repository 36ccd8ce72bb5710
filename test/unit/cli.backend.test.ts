import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { httpBaseFromRealtimeUrl, planBackend, realtimeUrlFromHttpBase } from '../../src/cli/backend.js';

const plan = (argv: string[], env: Record<string, string> = {}) => planBackend(parseArgs(argv, env));

describe('backend choice', () => {
  it('uses the emulator with no key and no url', () => {
    expect(plan([]).kind).toBe('emulator');
  });

  it('uses OpenAI GA with a key, the same key for summaries', () => {
    const p = plan([], { OPENAI_API_KEY: 'sk-test-1234567890' });
    expect(p).toMatchObject({
      kind: 'openai',
      connection: { apiKey: 'sk-test-1234567890', model: 'gpt-realtime', dialect: 'ga', url: undefined },
      summariser: { model: 'gpt-4o-mini', baseURL: 'https://api.openai.com/v1', apiKey: 'sk-test-1234567890' },
    });
    expect((p as { banner: string }).banner).not.toContain('sk-test');
  });

  it('derives the realtime URL from OPENAI_BASE_URL like the SDK', () => {
    const p = plan(['--model', 'gpt-realtime-mini'], { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'https://proxy.example/v1/' });
    expect(p).toMatchObject({
      connection: { url: 'wss://proxy.example/v1/realtime?model=gpt-realtime-mini' },
      summariser: { baseURL: 'https://proxy.example/v1' },
    });
  });

  it('uses --url with an optional key and summarises on that server', () => {
    const p = plan(['--url', 'ws://127.0.0.1:9000/v1/realtime?model=x', '--dialect', 'beta']);
    expect(p).toMatchObject({ kind: 'url', connection: { url: 'ws://127.0.0.1:9000/v1/realtime?model=x', dialect: 'beta' } });
    expect((p as { summariser: { baseURL: string } }).summariser.baseURL).toBe('http://127.0.0.1:9000/v1');
  });

  it('refuses an OpenAI URL without a key (usage error naming the fix)', () => {
    expect(() => plan(['--url', 'wss://api.openai.com/v1/realtime'])).toThrow(UsageError);
    expect(() => plan(['--url', 'wss://api.openai.com/v1/realtime'])).toThrow(/set OPENAI_API_KEY or pass --api-key/);
  });

  it('configures Azure with the deployment and its v1 REST surface for summaries', () => {
    const p = plan(['--azure-endpoint', 'https://res.openai.azure.com/', '--azure-deployment', 'rt'], { AZURE_OPENAI_API_KEY: 'azkey' });
    expect(p).toMatchObject({
      kind: 'azure',
      connection: { azureEndpoint: 'https://res.openai.azure.com', azureDeployment: 'rt', apiKey: 'azkey' },
      summariser: { baseURL: 'https://res.openai.azure.com/openai/v1', apiKey: 'azkey' },
    });
    expect(() => plan(['--azure-endpoint', 'https://res.openai.azure.com', '--azure-deployment', 'rt'])).toThrow(/AZURE_OPENAI_API_KEY/);
  });

  it('lets the summariser use another server', () => {
    const p = plan(['--summary-base-url', 'http://localhost:8080/v1', '--summary-api-key', 'local', '--summary-model', 'qwen'], { OPENAI_API_KEY: 'k' });
    expect(p).toMatchObject({ summariser: { baseURL: 'http://localhost:8080/v1', apiKey: 'local', model: 'qwen' } });
  });

  it('converts between realtime and REST base URLs', () => {
    expect(httpBaseFromRealtimeUrl('wss://h.example/openai/v1/realtime?model=m')).toBe('https://h.example/openai/v1');
    expect(realtimeUrlFromHttpBase('http://h:1/v1', 'm')).toBe('ws://h:1/v1/realtime?model=m');
  });
});
