import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';

// ipcMain / ipcRenderer are allowed only in the transport layer and the preload bridge:
// everything else speaks the typed protocol.
const ipcPaths = [
  {
    name: 'electron',
    importNames: ['ipcMain', 'ipcRenderer'],
    message: 'Use the typed protocol (src/shared/rpc); raw IPC lives in src/main/transport and src/preload only.',
  },
];
const bannedIpc = { 'no-restricted-imports': ['error', { paths: ipcPaths }] };

/** Arrows point one way: cli/server/desktop -> services -> engine -> leaves. `folders` may not be imported from here. */
function layer(folders, why) {
  return {
    'no-restricted-imports': [
      'error',
      // Relative imports that climb into src/main/<folder> (aliases such as #shared/rpc/server are not layers).
      { paths: ipcPaths, patterns: [{ regex: `^(\\.\\./)+(${folders.join('|')})(/|$)`, message: why }] },
    ],
  };
}

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'resources/**', 'test-results/**'] },
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      ...bannedIpc,
    },
  },
  {
    // The engine runs in its own process behind its contract; it knows nothing of who calls it.
    files: ['src/main/engine/**'],
    rules: layer(['services', 'desktop', 'server', 'cli'], 'The engine is called through its contract; it may not import services, desktop, server or cli.'),
  },
  {
    // The services serve every face (Electron, browser mode, CLI); the desktop shell depends on them, not back.
    files: ['src/main/services/**'],
    rules: layer(['desktop', 'server', 'cli'], 'Services may not import the desktop shell, the server or the CLI: they depend on services.'),
  },
  {
    files: ['src/main/transport/**', 'src/preload/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
