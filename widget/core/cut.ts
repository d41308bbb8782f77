/**
 * The first `end` code units of `text`, one fewer when the cut would fall inside a surrogate pair
 * (an emoji, a rare CJK character): a cut text never ends in half a character.
 */
export function cut(text: string, end: number): string {
  const code = text.charCodeAt(end - 1);
  return text.slice(0, text.length > end && code >= 0xd800 && code < 0xdc00 ? end - 1 : end);
}
