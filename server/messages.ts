import { isRecord } from './http';

/** One message forwarded upstream. The browser may only speak as `user` or `assistant`. */
export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** What the broker forwards from the browser's body; every other field is dropped. */
export interface CompletionInput {
  messages: ChatMessage[];
  stream: boolean;
  format: 'json' | 'text';
}

/** History limits (see `BrokerConfig.maxMessages`, `maxInputChars`, `maxTotalChars`). */
export interface HistoryLimits {
  maxMessages: number;
  maxInputChars: number;
  maxTotalChars: number;
}

export type ParseResult = { ok: true; value: CompletionInput } | { ok: false; message: string };

/**
 * Validates the browser's completion body and caps its history.
 *
 * Policy: the question (the last message) over `maxInputChars` is rejected (cutting it would
 * silently change what the visitor asked); an earlier message over it, typically a long answer, is
 * cut to `maxInputChars` (rejecting it would fail every later question of the conversation); an
 * over-long history is trimmed from the oldest end, because the widget sends
 * the whole conversation every turn (codegpt-api.md section 9.10) and refusing would end every long
 * chat. `system` messages are dropped: the agent's own prompt lives upstream, and a browser must not
 * replace it. `agentId` is ignored here; the broker forces the token's agent.
 */
export function parseCompletionBody(body: unknown, limits: HistoryLimits): ParseResult {
  if (!isRecord(body)) return { ok: false, message: 'Body must be a JSON object' };
  const { messages, stream = true, format = 'json' } = body;
  if (typeof stream !== 'boolean') return { ok: false, message: '`stream` must be a boolean' };
  if (format !== 'json' && format !== 'text') return { ok: false, message: '`format` must be "json" or "text"' };
  if (!Array.isArray(messages) || messages.length === 0) {
    return { ok: false, message: '`messages` must be a non-empty array' };
  }

  const kept: ChatMessage[] = [];
  for (const [i, m] of messages.entries()) {
    if (!isRecord(m) || typeof m.content !== 'string') {
      return { ok: false, message: `messages[${i}] must be { role, content: string }` };
    }
    if (m.role === 'system') continue;
    if (m.role !== 'user' && m.role !== 'assistant') {
      return { ok: false, message: `messages[${i}].role must be "user" or "assistant"` };
    }
    let content = m.content;
    if (content.length > limits.maxInputChars) {
      if (i === messages.length - 1) {
        return { ok: false, message: `messages[${i}] is longer than ${limits.maxInputChars} characters` };
      }
      content = content.slice(0, limits.maxInputChars);
    }
    kept.push({ role: m.role, content });
  }

  // Keep the newest messages that fit both caps; the last one always fits (maxInputChars ≤ maxTotalChars).
  let start = Math.max(0, kept.length - limits.maxMessages);
  let total = 0;
  for (let i = kept.length - 1; i >= start; i--) {
    total += kept[i]!.content.length;
    if (total > limits.maxTotalChars) {
      start = i + 1;
      break;
    }
  }
  const trimmed = kept.slice(start);
  if (trimmed.length === 0) return { ok: false, message: '`messages` has no user or assistant message' };
  return { ok: true, value: { messages: trimmed, stream, format } };
}
