// The real proxy in front of a fresh emulator, as the proxy tests use it: one upstream key for both
// the realtime socket and the summariser's chat completions, clients admitted without tokens.
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { startProxy, type ProxyOptions, type RealtimeProxy } from '../../src/proxy/index.js';

export interface ProxyRig {
  emu: Emulator;
  proxy: RealtimeProxy;
  close(): Promise<void>;
}

export async function proxyOnEmulator(emulator: EmulatorOptions, extra: Partial<ProxyOptions> = {}): Promise<ProxyRig> {
  const emu = await startEmulator({ audioPacing: 'fast', ...emulator });
  const key = 'sk-proxy-rig-upstream';
  const proxy = await startProxy({
    port: 0,
    connection: { url: emu.url, model: 'gpt-realtime', apiKey: key },
    summariser: { baseURL: emu.httpUrl, apiKey: key },
    auth: { mode: 'proxy-key' },
    journal: false,
    ...extra,
  });
  return {
    emu,
    proxy,
    close: async () => {
      await proxy.close();
      await emu.close();
    },
  };
}
