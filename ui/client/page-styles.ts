/**
 * A page's own stylesheet, applied when the page's module is first loaded. esbuild writes the CSS that a lazily loaded
 * page imports into a file of its own that nothing links (only the entry's stylesheet is in index.html), so a page
 * imports its CSS as text (`import css from './x.css' with { type: 'text' }`) and adopts it here as a constructed
 * stylesheet: no inline <style>, which the console's CSP (style-src 'self') would block.
 */
const adopted = new Set<string>();

/** Adds `css` to the document's stylesheets, once per text however many pages ask. */
export function adoptStyles(css: string): void {
  // Browsers before constructed stylesheets (Safari < 16.4) show the page with the console's own styles only.
  if (adopted.has(css) || !('adoptedStyleSheets' in Document.prototype)) return;
  adopted.add(css);
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}
