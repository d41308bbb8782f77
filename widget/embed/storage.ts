import { restoreMessages, type Messages } from '../core/conversation';

/** Where a conversation is kept between page loads; never the token (embed.md 5, rule 3). */
export interface ConversationStore {
  load(): Messages;
  save(messages: Messages): void;
  clear(): void;
}

const MAX_STORED_MESSAGES = 100;
const MAX_STORED_CHARS = 500_000;

/**
 * A store in session or local storage under a key scoped by agent. Every access is guarded:
 * storage may be disabled, full or throwing (sandboxed iframes, Safari private mode).
 */
export function createConversationStore(
  win: Window,
  kind: 'session' | 'local' | 'none',
  agentId: string,
): ConversationStore {
  if (kind === 'none') return { load: () => [], save() {}, clear() {} };
  const key = `codegpt-widget:v1:${agentId}`;
  const storage = (): Storage | undefined => {
    try {
      return kind === 'local' ? win.localStorage : win.sessionStorage;
    } catch {
      return undefined;
    }
  };
  return {
    load() {
      try {
        const raw = storage()?.getItem(key);
        return raw ? restoreMessages((JSON.parse(raw) as { messages?: unknown }).messages) : [];
      } catch {
        return [];
      }
    },
    save(messages) {
      try {
        let kept = messages.slice(-MAX_STORED_MESSAGES);
        let raw = JSON.stringify({ messages: kept });
        while (raw.length > MAX_STORED_CHARS && kept.length > 1) {
          kept = kept.slice(Math.ceil(kept.length / 4));
          raw = JSON.stringify({ messages: kept });
        }
        storage()?.setItem(key, raw);
      } catch {
        // Quota or access errors only cost persistence, never the conversation on screen.
      }
    },
    clear() {
      try {
        storage()?.removeItem(key);
      } catch {
        // Nothing stored, nothing to clear.
      }
    },
  };
}
