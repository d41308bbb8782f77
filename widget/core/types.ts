/**
 * Shared vocabulary (see README "Glossary"):
 * - message: one entry of the conversation, from the user or the assistant;
 * - turn: a user message and the assistant answer to it;
 * - chunk: one piece of response text as read from the network (arbitrary boundaries);
 * - event: one decoded protocol unit (an SSE event, a bare JSON object);
 * - delta: the answer text carried by one event;
 * - part: a `contents[]` entry of a 2025-style delta, or a shadow DOM `part` name in the view.
 */

/** Who wrote a message. Only these two roles are ever sent to the API. */
export type Role = 'user' | 'assistant';

/**
 * Lifecycle of one message. User messages are always `done`. An assistant message is `streaming`
 * while text arrives, then `done`, `stopped` (the visitor pressed Stop) or `error` (the answer broke
 * off or never started). Partial text is kept in every case.
 */
export type MessageState = 'streaming' | 'done' | 'stopped' | 'error';

/** One message of the conversation, as exposed by `ChatWidget.messages`. */
export interface Message {
  readonly id: string;
  readonly role: Role;
  readonly content: string;
  readonly state: MessageState;
}

/**
 * The one status of a conversation (style rule 7): every flag of the view derives from it.
 * - `idle`: nothing in flight;
 * - `connecting`: a question was sent, no answer byte yet (token fetch, request, retries);
 * - `streaming`: answer text is arriving;
 * - `error`: the last question failed; Retry is offered.
 */
export type ChatStatus = 'idle' | 'connecting' | 'streaming' | 'error';

/** Machine-readable error categories of embed.md section 3. */
export type ErrorCode =
  | 'config'
  | 'token'
  | 'auth'
  | 'rate_limited'
  | 'network'
  | 'interrupted'
  | 'server'
  | 'bad_response';

/** The `format` sent to the API; it, not `Content-Type`, decides how the body is decoded. */
export type StreamFormat = 'json' | 'text';

/** What the API needs of a message: role and content only. */
export interface WireMessage {
  role: Role;
  content: string;
}

/** What a token endpoint or `getToken` yields (embed.md section 5). */
export interface TokenResponse {
  token: string;
  /** Lifetime in seconds, 30–3600. */
  expiresIn: number;
  /** Base URL of the CodeGPT-compatible API to call with this token. */
  apiBase?: string;
}
