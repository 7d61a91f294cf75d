// One job only: no promise left unawaited (issue 11 made the store asynchronous; a forgotten await
// is a write that may land after its transaction, or an error nobody sees). Type-aware rules.
import tseslint from "typescript-eslint";

export default tseslint.config({
  files: ["src/**/*.ts", "src/**/*.tsx", "bench/**/*.ts"],
  languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  plugins: { "@typescript-eslint": tseslint.plugin },
  // Older comments disable rules this config does not run (no-control-regex): not a finding.
  linterOptions: { reportUnusedDisableDirectives: "off" },
  rules: {
    "@typescript-eslint/no-floating-promises": "error",
    "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
    "@typescript-eslint/await-thenable": "error",
  },
});
