// Terminal view: a live transcript (roles coloured, user transcripts filled in as they arrive) and a
// status line (window gauge, cost, summaries). On a TTY the status line is redrawn in place at the
// bottom; otherwise status changes are printed as plain lines, so a log or recording stays readable.
// In text mode on a TTY a prompt line sits below the status line: the view erases both before it
// prints and redraws both after (the prompt keeps what was typed), as readline-based REPLs do.
import { INAUDIBLE } from '../protocol/constants.js';
import type { AgentEvents, RealtimeAgent, Turn } from '../types.js';
import { callText, clip } from './tools.js';
import type { PromptLine } from './text-input.js';
import { historyText, skippedText, statusText, summaryText } from './format.js';

export interface ViewOptions {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream;
  color: boolean;
  redact: (s: string) => string;
}

const CODES = { user: '36', assistant: '32', system: '33', dim: '2', red: '31', bold: '1' } as const;

export class TerminalView {
  private readonly tty: boolean;
  private statusShown = false;
  private midLine: string | null = null; // item id whose assistant text is being streamed
  private readonly streamed = new Set<string>();
  private readonly printed = new Set<string>();
  private pendingUser: string | null = null; // user item whose placeholder is the last line (TTY)
  private status = { tokens: 0, trigger: 0, costUsd: 0, note: '', estimated: false, state: '' };
  private prompt: PromptLine | null = null;
  private promptShown = false;

  constructor(private readonly o: ViewOptions) {
    this.tty = !!o.out.isTTY;
  }

  paint(code: keyof typeof CODES, s: string): string {
    return this.o.color ? `\x1b[${CODES[code]}m${s}\x1b[0m` : s;
  }

  private write(s: string): void {
    this.o.out.write(this.o.redact(s));
  }

  /** Text mode on a TTY: the input's prompt line, below the status line (null: no prompt). */
  setPrompt(prompt: PromptLine | null): void {
    if (!this.tty) return;
    if (prompt) {
      // readline has just drawn the prompt on the current line (the status line, if any, is not up yet).
      this.prompt = prompt;
      this.promptShown = true;
      if (!this.statusShown && !this.midLine && this.status.trigger > 0) {
        prompt.clear();
        this.promptShown = false;
        this.drawStatus();
      }
    } else {
      // Input ended (the prompt line was erased; the cursor is at its start): the last status line
      // stays on screen as a finished line, with the cost so far.
      this.promptShown = false;
      this.prompt = null;
      this.statusShown = false;
    }
  }

  private clearStatus(): void {
    if (!this.tty) return;
    if (this.prompt && this.promptShown) {
      this.prompt.clear();
      this.promptShown = false;
      if (this.statusShown) this.o.out.write('\x1b[1A\r\x1b[K');
      this.statusShown = false;
      return;
    }
    if (this.statusShown) {
      this.o.out.write('\r\x1b[K');
      this.statusShown = false;
    }
  }

  private drawStatus(): void {
    if (!this.tty || this.midLine) return;
    if (this.status.trigger > 0) {
      this.o.out.write(this.paint('dim', statusText(this.status)));
      this.statusShown = true;
    }
    if (this.prompt) {
      if (this.statusShown) this.o.out.write('\n');
      this.prompt.redraw();
      this.promptShown = true;
    }
  }

  private endStream(): void {
    if (this.midLine) {
      this.write('\n');
      this.midLine = null;
    }
  }

  /** A whole line of transcript or information. */
  line(s: string): void {
    this.clearStatus();
    this.endStream();
    this.pendingUser = null;
    this.write(s + '\n');
    this.drawStatus();
  }

  info(s: string): void {
    this.line(this.paint('dim', s));
  }

  error(s: string): void {
    this.clearStatus();
    this.endStream();
    this.o.err.write(this.o.redact(this.paint('red', s)) + '\n');
    this.drawStatus();
  }

  private label(role: string): string {
    const code = role === 'user' ? 'user' : role === 'assistant' ? 'assistant' : 'system';
    const name = role === 'user' ? 'you' : role === 'system' ? 'summary' : role;
    return this.paint(code, this.paint('bold', `${name}:`));
  }

  onTurn(t: Turn): void {
    if (t.role === 'user') {
      if (this.printed.has(t.id)) return;
      if (t.textState === 'pending' || t.text === null) {
        // Placeholder only on a TTY, where it can be replaced in place when the transcript comes.
        if (this.tty && !this.midLine) {
          this.line(`${this.label('user')} ${this.paint('dim', '…')}`);
          this.pendingUser = t.id;
        }
        return;
      }
      this.showUser(t.id, t.text, t.textState === 'inaudible');
    } else if (t.role === 'assistant') {
      if (t.heardMs !== undefined && this.printed.has(t.id) && !this.printed.has(`${t.id}#cut`)) {
        this.printed.add(`${t.id}#cut`);
        this.info(`  (interrupted: heard ${(t.heardMs / 1000).toFixed(1)} s)`);
        return;
      }
      if (this.printed.has(t.id) || this.streamed.has(t.id)) return;
      if (t.text && t.textState === 'final') {
        this.printed.add(t.id);
        this.line(`${this.label('assistant')} ${t.text}`);
      }
    } else if (t.role === 'system' && t.id.startsWith('sum_') && t.text && !this.printed.has(t.id)) {
      this.printed.add(t.id);
      this.line(`${this.label('system')} ${this.paint('dim', t.text)}`);
    }
  }

  private showUser(id: string, text: string, inaudible: boolean): void {
    this.printed.add(id);
    const body = inaudible ? this.paint('dim', INAUDIBLE) : text;
    if (this.tty && this.pendingUser === id && !this.midLine) {
      // Replace the placeholder line (it is the line just above the status line).
      this.clearStatus();
      this.o.out.write('\x1b[1A\r\x1b[K');
      this.pendingUser = null;
      this.line(`${this.label('user')} ${body}`);
    } else {
      this.line(`${this.label('user')} ${body}`);
    }
  }

  onTranscript(e: AgentEvents['transcript']): void {
    if (!e.final || this.printed.has(e.itemId)) return;
    this.showUser(e.itemId, e.text, e.source === 'inaudible');
  }

  onDelta(e: AgentEvents['assistant.delta']): void {
    if (this.printed.has(e.itemId)) return;
    if (this.midLine !== e.itemId) {
      this.clearStatus();
      this.prompt?.hold();
      this.endStream();
      this.pendingUser = null;
      this.write(`${this.label('assistant')} `);
      this.midLine = e.itemId;
      this.streamed.add(e.itemId);
    }
    this.write(e.delta);
  }

  onResponseDone(): void {
    if (this.midLine) {
      this.printed.add(this.midLine);
      this.endStream();
      this.drawStatus();
    }
  }

  onWindow(e: AgentEvents['window']): void {
    this.status = { ...this.status, tokens: e.tokens, trigger: e.trigger, costUsd: e.costUsd, estimated: false };
    if (this.tty) {
      if (!this.midLine) {
        this.clearStatus();
        this.drawStatus();
      }
    } else {
      // A printed line is a record: the public state at that moment would read as stale there.
      this.line(this.paint('dim', `-- ${statusText({ ...this.status, state: '' })}`));
    }
  }

  /** The agent's public state (agent.state), on the live status line (TTY only). */
  onState(state: string): void {
    if (state === this.status.state) return;
    this.status.state = state;
    // Only a status line that is up is redrawn (after the input ended it stays as a finished line).
    if (this.tty && !this.midLine && this.statusShown) {
      this.clearStatus();
      this.drawStatus();
    }
  }

  onSummary(e: AgentEvents['summary']): void {
    this.status.tokens = e.windowAfterEstimate;
    this.status.estimated = true;
    this.line(this.paint('system', `-- ${summaryText(e)}`));
  }

  onSummarySkipped(e: AgentEvents['summary.skipped']): void {
    this.line(this.paint('system', `-- ${skippedText(e)}`));
  }

  setNote(note: string): void {
    this.status.note = note;
    if (this.tty && !this.midLine) {
      this.clearStatus();
      this.drawStatus();
    }
  }

  /** A tool call starts: shown at once, so a slow tool is visibly running. */
  onToolCall(e: AgentEvents['tool.call']): void {
    this.info(`tool ${callText(e.name, e.arguments)} …`);
  }

  /** Its result (or error) and how long it took. */
  onToolResult(e: AgentEvents['tool.result']): void {
    const head = `tool ${callText(e.name, e.arguments)}`;
    const ms = `[${e.durationMs} ms]`;
    if (e.status === 'done') this.line(`${this.paint('dim', head)} -> ${clip(e.output)} ${this.paint('dim', ms)}`);
    else if (e.status === 'cancelled') this.line(this.paint('dim', `${head} cancelled (you interrupted) ${ms}`));
    else this.line(`${this.paint('dim', head)} ${this.paint('red', e.status === 'timedOut' ? `timed out: ${e.error}` : `failed: ${e.error}`)} ${this.paint('dim', ms)}`);
  }

  history(turns: readonly Turn[]): void {
    this.line(historyText(turns));
  }

  /** Subscribes to an agent; returns an unsubscribe function. */
  attach(agent: RealtimeAgent): () => void {
    const offs = [
      agent.on('turn', (t) => this.onTurn(t)),
      agent.on('transcript', (e) => this.onTranscript(e)),
      agent.on('assistant.delta', (e) => this.onDelta(e)),
      agent.on('response.done', () => this.onResponseDone()),
      agent.on('window', (e) => this.onWindow(e)),
      agent.on('summary', (e) => this.onSummary(e)),
      agent.on('tool.call', (e) => this.onToolCall(e)),
      agent.on('tool.result', (e) => this.onToolResult(e)),
      agent.on('summary.skipped', (e) => this.onSummarySkipped(e)),
      agent.on('state', (e) => this.onState(e.state)),
      agent.on('reconnect', (e) =>
        this.info(
          e.reason === 'drop'
            ? `connection lost: reconnecting (attempt ${e.attempt}) in ${(e.delayMs / 1000).toFixed(1)} s`
            : e.reason === 'expired'
              ? 'session reached its time cap: continuing in a new session (summary and recent turns carried over)'
              : 'rolling over to a new session before the time cap (summary and recent turns carried over)',
        ),
      ),
      agent.on('seeded', () => this.info('new session ready; the conversation continues')),
    ];
    return () => offs.forEach((f) => f());
  }

  close(): void {
    this.clearStatus();
    this.endStream();
  }
}
