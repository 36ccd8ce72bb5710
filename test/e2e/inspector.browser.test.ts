// The live inspector in a real browser: Debian's chromium (headless, --no-sandbox) driven by
// playwright-core. First against the demo machines (test/helpers/inspector-demo.ts), then against
// the real CLI on the built-in emulator with the seed-demo preset. Screenshots go to
// test-artifacts/ (inspector-demo.png, inspector.png).
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startInspector, startTrace } from '../../adapters/inspector.js';
import { chromiumMissing, launchChromium, type BrowserSession } from '../helpers/inspector-browser.js';
import { cliMissing, ROOT, startCli } from '../helpers/inspector-cli.js';
import { createDemoAgent } from '../helpers/inspector-demo.js';
import { sleep } from '../helpers/inspector-http.js';

const API_KEY = 'sk-proj-BrowserTestKey_0123456789abcdefXYZ';
const ARTIFACTS = join(ROOT, 'test-artifacts');
mkdirSync(ARTIFACTS, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 'rtc-inspector-browser-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const noChromium = chromiumMissing();
if (noChromium) console.log(`[inspector.browser] skipped: ${noChromium}`);

interface PageState {
  seen: Record<string, string[]>;
  status: string;
  actors: string[];
  windows: { t: number; tokens: number }[];
  summaries: { t: number; id: string }[];
}
const pageState = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as Record<string, unknown>;
    return {
      seen: w.__rtcStatesSeen,
      status: w.__rtcStatus,
      actors: (w.__rtcActors as () => string[])(),
      windows: (w.__rtcWindow as { t: number; tokens: number }[]).map((p) => ({ t: p.t, tokens: p.tokens })),
      summaries: (w.__rtcSummaries as { t: number; id: string }[]).map((s) => ({ t: s.t, id: s.id })),
    } as PageState;
  });

async function waitState(page: Page, pred: (s: PageState) => boolean, timeoutMs: number, what: string): Promise<PageState> {
  const end = Date.now() + timeoutMs;
  let s = await pageState(page);
  while (!pred(s)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; page state: ${JSON.stringify(s).slice(0, 2000)}`);
    await sleep(100);
    s = await pageState(page);
  }
  return s;
}

/** The summariser's highlighted states include summarising, inserting and pruning, in that order. */
function summariserRoundTrip(seen: string[] | undefined): boolean {
  if (!seen) return false;
  const i = seen.indexOf('summarising');
  const j = seen.indexOf('inserting', i);
  const k = seen.indexOf('pruning', j);
  return i >= 0 && j > i && k > j;
}

/** The first window point after the first summary is below the last one before it. */
function windowDrops(s: PageState): { before: number; after: number } | null {
  const sum = s.summaries[0];
  if (!sum) return null;
  const before = s.windows.filter((w) => w.t <= sum.t).at(-1);
  const after = s.windows.find((w) => w.t > sum.t);
  return before && after ? { before: before.tokens, after: after.tokens } : null;
}

function onlyLoopback(requests: string[], port: number) {
  const foreign = requests.filter((u) => !u.startsWith(`http://127.0.0.1:${port}/`) && !u.startsWith('data:'));
  expect(foreign, 'requests that left the inspector origin').toEqual([]);
}

describe.skipIf(!!noChromium)(noChromium ? `inspector page in chromium (demo machines): SKIPPED, ${noChromium}` : 'inspector page in chromium (demo machines)', () => {
  it('shows the actors live, the summariser round trip, the window drop; reconnects; replays a trace', async () => {
    const tracePath = join(tmp, 'demo.jsonl');
    const insp = await startInspector({ secrets: [API_KEY], trigger: 3000, target: 1200 });
    const trace = startTrace(tracePath, [API_KEY]);
    const agent = createDemoAgent({ apiKey: API_KEY, stepMs: 150, transcriptMs: 80, trigger: 3000, target: 1200 });
    agent.start();
    insp.attach(agent);
    trace.attach(agent);
    let browser: BrowserSession | null = null;
    let second: Awaited<ReturnType<typeof startInspector>> | null = null;
    try {
      browser = await launchChromium();
      const { page } = browser;
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(insp.url);
      await page.locator('.card[data-actor="session"]').waitFor({ timeout: 10_000 });
      await page.locator('.card[data-actor="session"] .sn.active[data-id="session.ready.listening"]').waitFor({ timeout: 10_000 });
      expect(await pageState(page)).toMatchObject({ status: 'live' });

      for (let i = 0; i < 6; i++) {
        await agent.turn(`hello ${i}, here is my key ${API_KEY}`);
        if (i === 1) await page.locator('.card[data-actor^="transcript-"]').first().waitFor({ timeout: 5000 });
        await sleep(120);
      }
      const s = await waitState(page, (st) => summariserRoundTrip(st.seen.summariser) && !!windowDrops(st), 10_000, 'summary round trip');
      expect(s.actors).toEqual(expect.arrayContaining(['session', 'summariser']));
      const drop = windowDrops(s)!;
      expect(drop.after).toBeLessThan(drop.before);
      expect(await page.locator('svg .summary-marker').count()).toBeGreaterThan(0);
      expect(await page.locator('svg .line-trigger').count()).toBe(1);
      expect(await page.locator('svg .line-target').count()).toBe(1);
      expect(await page.locator('#log .sum').count()).toBeGreaterThan(0);
      // Done transcript children leave the live view.
      await page.waitForFunction(() => !(window as unknown as { __rtcActors(): string[] }).__rtcActors().some((a) => a.startsWith('transcript-')), null, {
        timeout: 5000,
      });
      const html = await page.content();
      expect(html).not.toContain(API_KEY);
      await page.screenshot({ path: join(ARTIFACTS, 'inspector-demo.png') });
      onlyLoopback(browser.requests, insp.port);
      expect(errors).toEqual([]);

      // The CLI "restarts": same port and token; the page shows the outage and comes back by itself.
      const { port, token } = insp;
      await insp.close();
      await waitState(page, (st) => st.status === 'reconnecting', 10_000, 'reconnecting badge');
      second = await startInspector({ port, token, secrets: [API_KEY] });
      const agent2 = createDemoAgent({ apiKey: API_KEY, stepMs: 50, transcriptMs: 20 });
      agent2.start();
      second.attach(agent2);
      await waitState(page, (st) => st.status === 'live' && st.actors.includes('session'), 15_000, 'reconnect');
      agent2.stop();

      // Replay the trace written during the first part.
      await trace.close();
      agent.stop();
      expect(statSync(tracePath).size).toBeGreaterThan(1000);
      await page.selectOption('#speed', '0');
      await page.setInputFiles('#file', tracePath);
      const r = await waitState(page, (st) => st.status === 'replay done', 10_000, 'replay');
      expect(r.summaries.length).toBe(1);
      expect(r.windows.length).toBe(6);
      expect(windowDrops(r)!.after).toBeLessThan(windowDrops(r)!.before);
      expect(r.actors).toEqual(['session', 'socket', 'summariser']);
      expect(errors).toEqual([]);
    } finally {
      await browser?.close();
      await insp.close();
      await second?.close();
      await trace.close();
      agent.stop();
    }
  });
});

const noCli = noChromium ? null : cliMissing();
if (noCli) console.log(`[inspector.browser] CLI test skipped: ${noCli}`);

describe.skipIf(!!noChromium || !!noCli)(noChromium || noCli ? `inspector page in chromium (real CLI, emulator, seed-demo): SKIPPED, ${noChromium || noCli}` : 'inspector page in chromium (real CLI, emulator, seed-demo)', () => {
  it('realtime-agent --inspect=0: session live, summariser round trip, window drops after the summary', async () => {
    const cli = startCli(['--preset', 'seed-demo', '--input', 'text', '--output', 'text', '--inspect=0', '--no-journal', '--no-color']);
    let browser: BrowserSession | null = null;
    try {
      const [, url, port] = await cli.waitFor(/inspector (http:\/\/127\.0\.0\.1:(\d+)\/\?token=[0-9a-f]{32})/, 30_000);
      browser = await launchChromium({ width: 1440, height: 1350 });
      const { page } = browser;
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(url);
      await page.locator('.card[data-actor="session"]').waitFor({ timeout: 15_000 });
      await waitState(page, (st) => st.status === 'live' && st.actors.includes('summariser'), 15_000, 'live session and summariser');

      // Long turns: the emulator echoes them, so the window grows fast towards the seed-demo trigger (2000).
      const topics = ['the history of the printing press', 'how tides work', 'why the sky is blue', 'the life of honey bees', 'how compilers optimise loops', 'the rules of chess', 'volcanoes', 'glaciers', 'the moon', 'paper making', 'rivers', 'clocks'];
      let windows = 0;
      for (let i = 0; i < topics.length; i++) {
        const from = cli.stdout().length;
        cli.line(`Please tell me in detail about ${topics[i]}. ` + `I would like a long and careful explanation with examples, history, and some numbers. `.repeat(12));
        await cli.waitFor(/-- window/, 20_000, from);
        windows++;
        const st = await pageState(page);
        if (st.summaries.length && windowDrops(st)) break;
        await sleep(300);
      }
      const s = await waitState(page, (st) => summariserRoundTrip(st.seen.summariser) && !!windowDrops(st), 30_000, 'summary and window drop');
      const drop = windowDrops(s)!;
      expect(drop.after).toBeLessThan(drop.before);
      expect(s.actors).toContain('session');
      expect(windows).toBeGreaterThan(1);
      await page.locator('.card[data-actor="summariser"]').scrollIntoViewIfNeeded();
      await page.evaluate(() => window.scrollTo(0, 0));
      await sleep(300);
      await page.screenshot({ path: join(ARTIFACTS, 'inspector.png') });
      onlyLoopback(browser.requests, Number(port));
      expect(errors).toEqual([]);
      console.log(`[inspector.browser] summariser states seen: ${s.seen.summariser.join(' -> ')}; window ${drop.before} -> ${drop.after}`);
      if (process.env.RTC_UPDATE_DOCS_SCREENSHOT) copyFileSync(join(ARTIFACTS, 'inspector.png'), join(ROOT, 'docs', 'inspector.png'));
    } finally {
      await browser?.close();
      const code = await cli.stop();
      if (code !== 0) console.log(`[inspector.browser] CLI exit ${code}; stderr:\n${cli.stderr().slice(-2000)}`);
    }
  }, 120_000);
});
