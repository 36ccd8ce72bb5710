import { describe, expect, it } from 'vitest';
import { helpText, OPTIONS, parseArgs, UsageError } from '../../src/cli/args.js';

const parse = (argv: string[], env: Record<string, string> = {}) => parseArgs(argv, env);

describe('cli args', () => {
  it('has documented defaults', () => {
    const o = parse([]);
    expect(o).toMatchObject({ model: 'gpt-realtime', dialect: 'ga', preset: 'default', summaryModel: 'gpt-4o-mini', json: false });
    expect(o.input).toBeUndefined();
    expect(o.apiKey).toBeUndefined();
  });

  it('reads values in both --flag value and --flag=value forms', () => {
    const o = parse(['--trigger', '3000', '--target=1500', '--keep', '4', '--input', 'wav:/tmp/a.wav', '--json']);
    expect(o).toMatchObject({ trigger: 3000, target: 1500, keep: 4, input: 'wav:/tmp/a.wav', json: true });
  });

  it('takes environment variables, and the command line wins', () => {
    const env = { OPENAI_API_KEY: 'sk-env', REALTIME_URL: 'ws://h/v1/realtime', NO_COLOR: '1', AZURE_OPENAI_API_KEY: 'az' };
    const o = parse([], env);
    expect(o).toMatchObject({ apiKey: 'sk-env', url: 'ws://h/v1/realtime', noColor: true, azureApiKey: 'az' });
    expect(parse(['--api-key', 'sk-cli'], env).apiKey).toBe('sk-cli');
    expect(parse([], { NO_COLOR: '' }).noColor).toBe(false);
  });

  const usage: Array<[string[], RegExp]> = [
    [['--foo'], /^unknown flag --foo \(see --help\)$/],
    [['-x'], /^unknown flag -x/],
    [['stray'], /unexpected argument "stray"/],
    [['--trigger'], /--trigger needs a value: --trigger TOKENS/],
    [['--trigger', '--json'], /--trigger needs a value/],
    [['--trigger', 'abc'], /--trigger must be a whole number/],
    [['--dialect', 'v2'], /--dialect must be one of ga, beta/],
    [['--preset', 'x'], /--preset must be one of default, seed-demo/],
    [['--summary-role', 'bot'], /--summary-role must be one of/],
    [['--input', 'usb'], /--input must be mic, text or wav:PATH/],
    [['--output', 'wav:'], /--output must be speaker, text or wav:PATH/],
    [['--json=yes'], /--json takes no value/],
    [['--half-duplex', '--headphones'], /exclude each other/],
    [['--journal', 'a', '--no-journal'], /exclude each other/],
    [['--url', 'http://x'], /--url must start with ws:\/\/ or wss:\/\//],
    [['--azure-endpoint', 'https://r.openai.azure.com'], /needs --azure-deployment/],
    [['--azure-endpoint', 'r.openai.azure.com', '--azure-deployment', 'd'], /must start with https/],
    [['--url', 'ws://x', '--azure-endpoint', 'https://r', '--azure-deployment', 'd'], /exclude each other/],
    [['--summary-base-url', 'localhost:8080'], /--summary-base-url must start with http/],
    [['--trigger', '100', '--target', '200'], /--target \(200\) must be below --trigger \(100\)/],
    [['--demo', '--input', 'text'], /--demo runs a fixed script on the emulator: drop --input/],
    [['--connect-timeout', '0'], /--connect-timeout must be at least 1/],
  ];
  it.each(usage)('usage error %j', (argv, msg) => {
    expect(() => parse(argv)).toThrow(UsageError);
    try {
      parse(argv);
    } catch (e) {
      expect((e as Error).message).toMatch(msg);
      expect((e as Error).message).not.toContain('\n');
    }
  });

  it('reports a bad env var by its name', () => {
    expect(() => parse([], { REALTIME_URL: 'http://x' })).toThrow(/^REALTIME_URL must start with ws:\/\//);
    expect(() => parse([], { AZURE_OPENAI_ENDPOINT: 'https://r.openai.azure.com' })).toThrow(/^AZURE_OPENAI_ENDPOINT needs --azure-deployment/);
  });

  it('--help lists every option with its default and env var', () => {
    const text = helpText('1.2.3');
    for (const o of OPTIONS) {
      const line = text.split('\n').find((l) => l.startsWith(`  --${o.flag}`));
      expect(line, o.flag).toBeDefined();
      if (o.def) expect(line).toContain(`default: ${o.def}`);
      if (o.env) expect(line).toContain(`env: ${o.env}`);
    }
    for (const env of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'REALTIME_URL', 'AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_ENDPOINT', 'NO_COLOR']) {
      expect(text).toContain(env);
    }
  });
});
