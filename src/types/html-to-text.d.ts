// html-to-text ships no types; only the one function ingest-mail calls is declared.
declare module "html-to-text" {
  export function convert(html: string, options?: Record<string, unknown>): string;
}
