// The body Outlook keeps in winmail.dat as compressed RTF (PR_RTF_COMPRESSED, [MS-OXRTFCP]), for a
// mail that has no other text (tnef.ts finds it, parse.ts asks for it). Outlook's RTF is most often
// HTML or plain text wrapped in RTF ([MS-OXRTFEX]: \fromhtml1, \fromtext), given back as it was;
// RTF written as RTF is read as plain text. Both by rtf-stream-parser; the decompression by
// @kenjiuno/decompressrtf. Loaded on first use (the bundle's lazy modules).
import { decompressRTF } from "@kenjiuno/decompressrtf";
import { deEncapsulateSync, Tokenize } from "rtf-stream-parser";
import { ToPlainText } from "rtf-stream-parser/dist/src/ToPlainText.js";
import { iconvLite } from "./mailparser-own.js";

/**
 * Compressed RTF read, at most: the decompressor expands up to about 8.5 times into a JavaScript
 * array (8 bytes an entry), so 256 KiB in is at most ~18 MB of memory. Outlook's bodies are a few KB.
 */
export const MAX_RTF_BYTES = 256 * 1024;
/** RTF read, at most, once decompressed: crafted RTF at this size, in groups nested to MAX_RTF_DEPTH, ingests in at most 0.9 s at 135 MB peak RSS (measured). */
export const MAX_RTF_TEXT = 256 * 1024;

/** Groups nested deeper than this are not read (see groupDepth). */
export const MAX_RTF_DEPTH = 40;

/** The deepest nesting of { } groups; an escaped brace (\{, \}) is text. One pass. */
export function groupDepth(rtf: Buffer): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < rtf.length; i++) {
    const c = rtf[i];
    if (c === 0x5c) i++; // a backslash: the next byte is escaped or starts a control word
    else if (c === 0x7b && ++depth > max) max = depth;
    else if (c === 0x7d && depth > 0) depth--;
  }
  return max;
}

export type RtfBody = { text: string; html: null } | { text: null; html: string };

/** The text or HTML of a compressed RTF body; null when it cannot be read (said in `why`). */
export function rtfBody(compressed: Buffer): { body: RtfBody | null; why: string | null } {
  if (compressed.length > MAX_RTF_BYTES) return { body: null, why: `its RTF text is ${compressed.length} bytes compressed, more than ${MAX_RTF_BYTES} (not read)` };
  // [MS-OXRTFCP] 2.1.3.1.1: CompSize counts the bytes after itself. The decompressor reads to
  // CompSize + 4 whatever the buffer holds, so a header claiming more than is there is refused.
  if (compressed.length < 16 || compressed.readUInt32LE(0) + 4 > compressed.length) return { body: null, why: "its RTF text is cut short (not read)" };
  if (compressed.readUInt32LE(4) > MAX_RTF_TEXT) return { body: null, why: `its RTF text is ${compressed.readUInt32LE(4)} bytes, more than ${MAX_RTF_TEXT} (not read)` };
  let rtf: Buffer;
  try {
    // Typed as number[], it only indexes its input: a Buffer serves.
    rtf = Buffer.from(decompressRTF(compressed.subarray(0, compressed.readUInt32LE(0) + 4) as unknown as number[]));
  } catch {
    return { body: null, why: "its RTF text is not compressed RTF (not read)" };
  }
  // The parser's work per token grows with the group depth (2.5 s for 16 KiB of "{"): Outlook's
  // bodies nest 3 to 8 deep (the 10 in public TNEF test suites), crafted ones are refused.
  if (rtf.length > MAX_RTF_TEXT) return { body: null, why: `its RTF text is ${rtf.length} bytes, more than ${MAX_RTF_TEXT} (not read)` };
  if (groupDepth(rtf) > MAX_RTF_DEPTH) return { body: null, why: `its RTF text nests groups more than ${MAX_RTF_DEPTH} deep (not read)` };
  const decode = (bytes: Buffer, charset: string) => iconvLite.decode(bytes, charset);
  try {
    const wrapped = deEncapsulateSync(rtf, { decode, mode: "either", warn: () => {} });
    const text = String(wrapped.text);
    return { body: wrapped.mode === "html" ? { text: null, html: text } : { text, html: null }, why: null };
  } catch {
    // Not wrapped: RTF written as RTF.
  }
  try {
    return { body: { text: rtfToText(rtf, decode), html: null }, why: null };
  } catch {
    return { body: null, why: "its RTF text could not be read" };
  }
}

/**
 * Groups whose content is not the text (RTF 1.9.1): ToPlainText leaves out only the font, colour and
 * style tables and the groups marked \* as ignorable; a picture's hex, the document's properties,
 * page headers and footers and a field's instruction would be text too.
 */
const NOT_TEXT = ["pict", "shppict", "nonshppict", "macpict", "object", "objdata", "info", "header", "headerl", "headerr", "headerf", "footer", "footerl", "footerr", "footerf", "fldinst", "themedata", "colorschememapping", "datastore", "latentstyles", "listtable", "listoverridetable", "rsidtbl", "revtbl", "filetbl", "sp", "bkmkstart", "bkmkend"];

/** A group state of rtf-stream-parser's (its feature handlers' interface). */
interface ParserState {
  _state: { allDestinations?: Record<string, boolean> };
}

/** RTF's text, its formatting and destinations (fonts, pictures, hidden groups) left out. */
function rtfToText(rtf: Buffer, decode: (bytes: Buffer, charset: string) => string): string {
  const tokens = new Tokenize();
  const text = new ToPlainText({ decode, warn: () => {} });
  // Consulted on each piece of output: true drops it.
  (text._featureHandlers as unknown[]).push({ outputDataFilter: (g: ParserState) => NOT_TEXT.some((d) => g._state.allDestinations?.[d]) });
  const out: string[] = [];
  const fail = (e: unknown) => {
    if (e) throw e;
  };
  // Synchronously, as deEncapsulateSync drives its own two stages: each stage's push feeds the next.
  tokens.push = (token: unknown) => (text._transform(token as never, "utf8", fail), true);
  text.push = (piece: unknown) => (out.push(String(piece)), true);
  tokens._transform(rtf, "utf8", fail);
  tokens._flush(fail as () => void);
  text._flush(fail);
  return out.join("");
}
