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

/** Set the final state of message `id`; the text received so far is kept. */
export function settle(messages: Messages, id: string, state: Exclude<MessageState, 'streaming'>): Messages {
  return update(messages, id, (m) => (m.state === state ? m : { ...m, state }));
}

/**
 * The history sent to the API (codegpt-api.md 9.10: the API is stateless, send it all): user and
 * assistant messages in order, without empty answers. `upTo` (exclusive index) cuts the list, so a
 * retry sends the history that ends with the question being retried.
 */
export function toWire(messages: Messages, upTo = messages.length): WireMessage[] {
  const wire: WireMessage[] = [];
  for (let i = 0; i < upTo && i < messages.length; i++) {
    const m = messages[i]!;
    if (m.content.trim() !== '') wire.push({ role: m.role, content: m.content });
  }
  return wire;
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
