// html-to-text ships no types; only the functions ingest-mail calls are declared.
declare module "html-to-text" {
  export function convert(html: string, options?: Record<string, unknown>): string;
  export function compile(options?: Record<string, unknown>): (html: string) => string;
}
