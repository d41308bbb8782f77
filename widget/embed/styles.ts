/**
 * Put the widget CSS into a shadow root. A constructed stylesheet needs no 'unsafe-inline' and no
 * nonce (reliability.md: checked in Chromium under `style-src 'nonce-…'`). Where constructable
 * stylesheets are missing, a `<style nonce>` fallback is used with the page's nonce.
 */
export function adoptStyles(root: ShadowRoot, cssText: string, nonce?: string): void {
  const win = root.ownerDocument.defaultView;
  try {
    if (win && 'adoptedStyleSheets' in root && typeof win.CSSStyleSheet === 'function') {
      const sheet = new win.CSSStyleSheet();
      sheet.replaceSync(cssText);
      root.adoptedStyleSheets = [sheet];
      return;
    }
  } catch {
    // Fall through to the <style> element.
  }
  const style = root.ownerDocument.createElement('style');
  if (nonce) style.setAttribute('nonce', nonce);
  style.textContent = cssText;
  root.appendChild(style);
}
