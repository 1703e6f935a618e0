// Lint for the whole tree: typed TypeScript rules, Svelte's rules, and the import boundaries between the rooms that
// docs/architecture.md describes (a room imports only from rooms below it; contract/ is for everyone).
import { readdirSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join } from 'node:path'
import js from '@eslint/js'
import { defineConfig, globalIgnores } from 'eslint/config'
import { createNodeResolver, importX } from 'eslint-plugin-import-x'
import svelte from 'eslint-plugin-svelte'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const root = import.meta.dirname

/** Code every room of src-main may import: the API, the installation folder, the warning filter. */
const SHARED = ['contract', 'paths.ts', 'warnings.ts']
const STORE = ['store']
const ENGINE = ['engine']
const HARDWARE = ['hardware', ...STORE]
const JOBS = ['jobs', ...ENGINE, ...HARDWARE]
const SERVICES = ['services', ...JOBS]
const WIRING = ['core.ts', 'router.ts', 'event-hub.ts', 'change-feed.ts', ...SERVICES]

/**
 * Each room of src-main (files or folders) and what it may import from src-main; anything else in src-main is refused.
 * Top to bottom: hosts → core, router, event-hub, change-feed → services → jobs → engine, hardware → store.
 * `security/` holds what both hosts that serve the renderer need (the CSP), so neither host imports the other.
 */
const ROOMS = [
  { room: ['contract'], may: ['contract'] },
  { room: ['paths.ts', 'warnings.ts', 'security'], may: ['contract', 'security'] },
  { room: ['store'], may: [...SHARED, ...STORE] },
  { room: ['engine'], may: [...SHARED, ...ENGINE] },
  { room: ['hardware'], may: [...SHARED, ...HARDWARE] },
  { room: ['jobs'], may: [...SHARED, ...JOBS] },
  { room: ['services'], may: [...SHARED, ...SERVICES] },
  { room: ['core.ts', 'router.ts', 'event-hub.ts', 'change-feed.ts'], may: [...SHARED, ...WIRING] },
  { room: ['server'], may: [...SHARED, ...WIRING, 'security', 'server'] },
  { room: ['desktop'], may: [...SHARED, ...WIRING, 'security', 'desktop'] },
  { room: ['index.ts'], may: [...SHARED, ...WIRING, 'security', 'desktop'] },
  // The CLI hosts web mode, so it may start the web server.
  { room: ['cli.ts', 'cli'], may: [...SHARED, ...WIRING, 'security', 'cli.ts', 'cli', 'server'] },
]

const roomZones = ROOMS.map(({ room, may }) => ({
  target: room.map((p) => `./src-main/${p}`),
  from: './src-main',
  except: may.map((p) => `./${p}`),
  message: `src-main/${room.join(', ')} may import from src-main only ${may.join(', ')} (docs/architecture.md, "Rooms in src-main").`,
}))

/** Renderer rooms under components/ may use the shared components, lib/ and state/, not each other nor the views. */
const componentRooms = readdirSync(join(root, 'src-renderer/components'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
const componentZones = componentRooms.map((room) => ({
  target: `./src-renderer/components/${room}`,
  from: ['./src-renderer/views', './src-renderer/App.svelte', ...componentRooms.filter((r) => r !== room).map((r) => `./src-renderer/components/${r}`)],
  message: `components/${room}/ may import shared components, lib/ and state/, not another room's components or a view.`,
}))

const boundaryZones = [
  ...roomZones,
  ...componentZones,
  {
    target: './src-renderer',
    from: '.',
    except: ['./src-renderer', './src-main/contract', './node_modules'],
    message: 'The renderer may import only src-renderer and src-main/contract: everything else reaches it through the API.',
  },
  {
    target: './src-preload',
    from: '.',
    except: ['./src-preload', './src-main/contract', './src-main/desktop/channels.ts', './node_modules'],
    message: 'The preload may import only src-main/contract and src-main/desktop/channels.ts (it is bundled for the sandbox).',
  },
]

/** `JSON.parse(text) as T` claims a shape nothing checked; parse with the contract's zod schema instead. */
const JSON_PARSE_AS = [
  {
    selector:
      ":matches(TSAsExpression, TSTypeAssertion):not([typeAnnotation.type='TSUnknownKeyword']) > CallExpression.expression[callee.object.name='JSON'][callee.property.name='parse']",
    message: 'JSON.parse(...) as T asserts a shape nothing checked: parse it with a zod schema (or keep it unknown and narrow it).',
  },
]
/** The plotly bundle: the strict one, whose WebGL traces (parcoords) need no eval under the renderer's CSP. */
const PLOTLY = 'plotly.js-strict-dist-min'
const PLOTLY_MESSAGE = `${PLOTLY} is loaded only by components/Plot.svelte (lazily, it is large): draw through <Plot>.`
const PLOTLY_ELSEWHERE = [
  { selector: `ImportExpression[source.value=/^plotly\\.js/]`, message: PLOTLY_MESSAGE },
  { selector: `TSImportType[argument.literal.value=/^plotly\\.js/]`, message: PLOTLY_MESSAGE },
]

export default defineConfig([
  globalIgnores(['out/', 'node_modules/', 'resources/', '.native/', 'test-results/', 'scratch/', '.scratch*/', '.benchside-dev/', 'src-renderer/public/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  svelte.configs.recommended,
  svelte.configs.prettier,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: root,
        extraFileExtensions: ['.svelte'],
      },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.svelte', '.json'] })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        // `typeof import('plotly.js-strict-dist-min')` types a module that is loaded lazily.
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'import-x/no-restricted-paths': ['error', { basePath: root, zones: boundaryZones }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser },
      globals: globals.browser,
    },
    rules: {
      // Types are checked by svelte-check; ESLint's scope analysis does not know the TypeScript-only names.
      'no-undef': 'off',
    },
  },
  {
    // Rune modules are plain TypeScript to the compiler too: parsed as they are on disk, the type-checker's program
    // needs no update per file (svelte-eslint-parser's rewritten text made that cost seconds per file).
    files: ['**/*.svelte.ts'],
    languageOptions: { parser: tseslint.parser },
  },
  {
    // Typed rules on components cost a type-check per component (minutes in all); .ts and .svelte.ts files keep them.
    files: ['**/*.svelte'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['src-renderer/**'],
    languageOptions: { globals: globals.browser },
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^plotly\\.js', message: PLOTLY_MESSAGE }] }],
      'no-restricted-syntax': ['error', ...JSON_PARSE_AS, ...PLOTLY_ELSEWHERE],
    },
  },
  {
    files: ['src-renderer/components/Plot.svelte'],
    rules: {
      'no-restricted-imports': 'off',
      'no-restricted-syntax': ['error', ...JSON_PARSE_AS],
    },
  },
  {
    files: ['src-main/services/**', 'src-main/cli/**', 'src-main/cli.ts'],
    rules: { 'no-restricted-syntax': ['error', ...JSON_PARSE_AS] },
  },
  {
    files: ['src-main/contract/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: builtinModules.map((name) => ({ name, message: 'contract/ is pure TypeScript shared with the renderer: no Node modules.' })),
          patterns: [{ regex: '^node:', message: 'contract/ is pure TypeScript shared with the renderer: no Node modules.' }],
        },
      ],
    },
  },
  {
    files: ['src-main/**', 'tests/**', 'bench/**', 'scripts/**', 'bin/**', '*.config.{js,ts}'],
    languageOptions: { globals: globals.node },
  },
  {
    // Plain JavaScript is in no tsconfig, so it gets the untyped rules only.
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
  },
])
