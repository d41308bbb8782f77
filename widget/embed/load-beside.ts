/**
 * Script-tag build only: loads an optional file published next to the bundle (a translation pack,
 * the debug logger), with the bundle's own nonce so a strict CSP that allowed the bundle allows it.
 */
// Read while the bundle's own script runs: where it came from, and its nonce.
const self = typeof document !== 'undefined' ? (document.currentScript as HTMLScriptElement | null) : null;

/** Inserts `<script src="{bundle dir}/{path}">`; false when the bundle's own URL is unknown. */
export function loadBeside(path: string, onError: () => void): boolean {
  if (!self?.src) return false;
  const script = document.createElement('script');
  try {
    script.src = new URL(path, self.src).href;
  } catch {
    // `require-trusted-types-for 'script'` makes `src` a Trusted Types sink, and the widget creates
    // no policy: the optional file is skipped (English, no debug log), nothing throws into the page.
    console.warn(`codegpt-widget: Trusted Types blocked loading ${path}.`);
    return false;
  }
  script.async = true;
  if (self.nonce) script.nonce = self.nonce;
  script.onerror = () => {
    console.warn(`codegpt-widget: could not load ${script.src}.`);
    onError();
  };
  document.head.appendChild(script);
  return true;
}
