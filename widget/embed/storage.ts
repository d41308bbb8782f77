import { restoreMessages, type Messages } from '../core/conversation';

/** The panel's state that follows the visitor from page to page. */
export interface UiState {
  open?: boolean;
  draft?: string;
}

/** Where a conversation is kept between page loads; never the token (embed.md 5, rule 3). */
export interface ConversationStore {
  load(): Messages;
  save(messages: Messages): void;
  /** Open state and draft, kept under their own small key so typing never rewrites the conversation. */
  loadUi(): UiState;
  saveUi(state: UiState): void;
  /** Forget the conversation and the panel state. */
  clear(): void;
}

const MAX_STORED_MESSAGES = 100;
const MAX_STORED_CHARS = 500_000;

/**
 * A store in session or local storage under keys scoped by agent and, when given, by the signed-in
 * user, so two people sharing a browser never see each other's chats. Every access is guarded:
 * storage may be disabled, full or throwing (sandboxed iframes, Safari private mode).
 */
export function createConversationStore(
  win: Window,
  kind: 'session' | 'local' | 'none',
  agentId: string,
  userId?: string,
): ConversationStore {
  const key = `codegpt-widget:v1:${agentId}${userId ? `:user:${userId}` : ''}`;
  const uiKey = `${key}:ui`;
  /** `fn`'s result, or `undefined` when storage is off or throws. */
  const attempt = <T>(fn: (storage: Storage) => T): T | undefined => {
    try {
      if (kind !== 'none') return fn(kind === 'local' ? win.localStorage : win.sessionStorage);
    } catch {
      // Quota or access errors only cost persistence, never the conversation on screen.
    }
  };
  const read = (k: string) => attempt((s) => JSON.parse(s.getItem(k) ?? 'null') as Record<string, unknown> | null);
  return {
    load: () => restoreMessages(read(key)?.messages),
    save(messages) {
      attempt((s) => {
        let kept = messages.slice(-MAX_STORED_MESSAGES);
        let raw: string;
        while ((raw = JSON.stringify({ messages: kept })).length > MAX_STORED_CHARS && kept.length > 1) {
          kept = kept.slice(Math.ceil(kept.length / 4));
        }
        s.setItem(key, raw);
      });
    },
    loadUi() {
      const ui = read(uiKey);
      return {
        open: typeof ui?.open === 'boolean' ? ui.open : undefined,
        draft: typeof ui?.draft === 'string' ? ui.draft.slice(0, 8000) : '',
      };
    },
    saveUi: (state) => attempt((s) => s.setItem(uiKey, JSON.stringify(state))),
    clear: () =>
      attempt((s) => {
        s.removeItem(key);
        s.removeItem(uiKey);
      }),
  };
}
