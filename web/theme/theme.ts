/**
 * Light or dark. The page follows the system's `prefers-color-scheme` until the person picks one with the top bar's
 * toggle; that choice is kept in localStorage. The resolved theme is `data-theme` on <html>, which styles.css reads.
 *
 * Applied from web/main.tsx's first import, before React renders: the server's Content-Security-Policy allows no
 * inline script, so index.html cannot do it earlier.
 */
export type Theme = 'light' | 'dark';

const KEY = 'consilium.theme';
const listeners = new Set<() => void>();

function storedChoice(): Theme | null {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : null;
  } catch {
    return null; // storage blocked (private mode, sandboxed frame): follow the system
  }
}

function systemQuery(): MediaQueryList | null {
  return typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;
}

function systemTheme(): Theme {
  return systemQuery()?.matches ? 'dark' : 'light';
}

/** The theme in effect: the person's choice, else the system's. */
export function currentTheme(): Theme {
  return storedChoice() ?? systemTheme();
}

function apply(): void {
  document.documentElement.dataset.theme = currentTheme();
  for (const l of listeners) l();
}

/** Picks a theme. Picking the system's own theme forgets the choice, so the page follows the system again. */
export function setTheme(theme: Theme): void {
  try {
    if (theme === systemTheme()) localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, theme);
  } catch {
    // not remembered; still applied for this page
  }
  document.documentElement.dataset.theme = theme;
  for (const l of listeners) l();
}

export function subscribeTheme(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

let started = false;
/** Sets `data-theme` now and keeps it in step with the system setting and with other tabs. */
export function initTheme(): void {
  if (started || typeof document === 'undefined') return;
  started = true;
  apply();
  systemQuery()?.addEventListener('change', apply);
  window.addEventListener('storage', (e) => {
    if (e.key === KEY || e.key === null) apply();
  });
}
