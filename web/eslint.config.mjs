// ESLint flat config for every TypeScript, Svelte and JavaScript source under web/.
// Formatting is Prettier's job (.prettierrc.json); only the recommended rule sets run here.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './app/svelte.config.js';

export default defineConfig(
  globalIgnores(['dist/', 'sdk/dist/', 'sdk/src/schema.d.ts', 'test-results/', '.e2e-tmp/']),
  js.configs.recommended,
  ts.configs.recommended,
  svelte.configs.recommended,
  svelte.configs.prettier,
  {
    // The SPA runs in the browser.
    files: ['app/src/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'], svelteConfig },
    },
  },
  {
    // Node: build configs, the SDK (also runs in browsers), its tests and scripts, the bot.
    files: ['app/*.{js,ts}', 'sdk/**', 'examples/**'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    // Browser tests: node code that also passes callbacks to page.evaluate().
    files: ['e2e/**'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
