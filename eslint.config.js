import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';

// ipcMain / ipcRenderer are allowed only in the transport layer and the preload bridge:
// everything else speaks the typed protocol.
const bannedIpc = {
  'no-restricted-imports': [
    'error',
    {
      paths: [
        {
          name: 'electron',
          importNames: ['ipcMain', 'ipcRenderer'],
          message: 'Use the typed protocol (src/shared/rpc); raw IPC lives in src/main/transport and src/preload only.',
        },
      ],
    },
  ],
};

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
    files: ['src/main/transport/**', 'src/preload/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
