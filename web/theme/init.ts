// Imported first by web/main.tsx: the theme is set before any component renders, so no light flash in dark mode.
import { initTheme } from './theme';

initTheme();
