// Light/dark theme: follows prefers-color-scheme until the user picks one with the toggle.

export type ThemeChoice = 'auto' | 'light' | 'dark';
const KEY = 'clickclack:theme';

class Theme {
  choice = $state<ThemeChoice>('auto');

  constructor() {
    if (typeof localStorage !== 'undefined') {
      const saved = localStorage.getItem(KEY);
      if (saved === 'light' || saved === 'dark') this.choice = saved;
    }
    this.apply();
  }

  get effective(): 'light' | 'dark' {
    if (this.choice !== 'auto') return this.choice;
    return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }

  set(choice: ThemeChoice): void {
    this.choice = choice;
    if (choice === 'auto') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
    this.apply();
  }

  toggle(): void {
    this.set(this.effective === 'dark' ? 'light' : 'dark');
  }

  private apply(): void {
    if (typeof document === 'undefined') return;
    const root = document.documentElement;
    if (this.choice === 'auto') root.removeAttribute('data-theme');
    else root.setAttribute('data-theme', this.choice);
  }
}

export const theme = new Theme();
