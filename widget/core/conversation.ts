import type { Message, MessageState, WireMessage } from './types';

/**
 * Pure transitions over the message list (style rule 8): every function returns a new array and
 * never mutates its input, so the signals model can hold the result as-is and tests use plain data.
 */
export type Messages = readonly Message[];

/** Append a user message (always `done`). */
export function addUserMessage(messages: Messages, id: string, content: string): Messages {
  return [...messages, { id, role: 'user', content, state: 'done' }];
}

/** Append an empty assistant message that is about to stream. */
export function beginAssistant(messages: Messages, id: string): Messages {
  return [...messages, { id, role: 'assistant', content: '', state: 'streaming' }];
}

/**
 * Append answer text to message `id`. With `replace`, the text replaces the old content: a retried
 * answer keeps showing the broken partial answer until the new one sends its first byte.
 */
export function appendText(messages: Messages, id: string, text: string, replace = false): Messages {
  return update(messages, id, (m) => ({ ...m, content: replace ? text : m.content + text, state: 'streaming' }));
}

/** Mark answer `id` as streaming again (a retry): its old text stays until the new text replaces it. */
export function reopen(messages: Messages, id: string): Messages {
  return update(messages, id, (m) => ({ ...m, state: 'streaming' }));
}

/** Set the final state of message `id`; the text received so far is kept. */
export function settle(messages: Messages, id: string, state: Exclude<MessageState, 'streaming'>): Messages {
  return update(messages, id, (m) => (m.state === state ? m : { ...m, state }));
}

/** Most messages sent per request; matches the reference broker's default cap. */
export const MAX_WIRE_MESSAGES = 50;
/** Most characters of history sent per request; matches the reference broker's default cap. */
export const MAX_WIRE_CHARS = 32_000;
/** Longest earlier message sent back as history (a long answer is cut, not dropped); the broker's per-message cap. */
export const MAX_WIRE_MESSAGE_CHARS = 8_000;

/**
 * The history sent to the API (codegpt-api.md 9.10: the API is stateless, send it all): user and
 * assistant messages in order, without empty answers. `upTo` (exclusive index) cuts the list, so a
 * retry sends the history that ends with the question being retried. Long conversations keep
 * their most recent messages within {@link MAX_WIRE_MESSAGES} and {@link MAX_WIRE_CHARS}, earlier
 * messages cut to {@link MAX_WIRE_MESSAGE_CHARS} (the question itself always goes whole), so the
 * request body stays bounded however long the chat or its answers grow.
 */
export function toWire(messages: Messages, upTo = messages.length): WireMessage[] {
  const wire: WireMessage[] = [];
  let chars = 0;
  for (let i = Math.min(upTo, messages.length) - 1; i >= 0 && wire.length < MAX_WIRE_MESSAGES; i--) {
    const m = messages[i]!;
    if (m.content.trim() === '') continue;
    const content = wire.length > 0 ? m.content.slice(0, MAX_WIRE_MESSAGE_CHARS) : m.content;
    chars += content.length;
    if (chars > MAX_WIRE_CHARS && wire.length > 0) break;
    wire.push({ role: m.role, content });
  }
  // A history must start with a question: drop a leading answer left by the cut.
  if (wire.length > 1 && wire[wire.length - 1]!.role === 'assistant') wire.pop();
  return wire.reverse();
}

/** Index of the last user message, or -1. */
export function lastUserIndex(messages: Messages): number {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.role === 'user') return i;
  return -1;
}

/**
 * Messages restored from storage: an answer that was still streaming when the page went away was
 * cut off, so it becomes `error` (offered for Retry); anything malformed is dropped.
 */
export function restoreMessages(value: unknown): Messages {
  if (!Array.isArray(value)) return [];
  const out: Message[] = [];
  for (const item of value) {
    if (typeof item !== 'object' || item === null) continue;
    const { id, role, content, state } = item as Record<string, unknown>;
    if (typeof id !== 'string' || typeof content !== 'string') continue;
    if (role !== 'user' && role !== 'assistant') continue;
    const s: MessageState =
      state === 'done' || state === 'stopped' || state === 'error' ? state : state === 'streaming' ? 'error' : 'done';
    out.push({ id, role, content, state: role === 'user' ? 'done' : s });
  }
  return out;
}

function update(messages: Messages, id: string, fn: (m: Message) => Message): Messages {
  const i = messages.findIndex((m) => m.id === id);
  if (i < 0) return messages;
  const next = messages.slice();
  next[i] = fn(messages[i]!);
  return next;
}
