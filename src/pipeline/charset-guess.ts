// Which East Asian charset a text part with no usable label is in, when the message declares none
// that fits (body-text.ts). Chinese, Japanese and Korean mail without a charset is read by ICU's
// detector (the chardet package), as Zammad reads it with ICU through charlock_holmes: GB18030,
// Big5, Shift_JIS, EUC-JP and EUC-KR text is told apart with confidence from a few hundred bytes.
// Single-byte charsets are not guessed: on short text the detector names the wrong one (Czech as
// ISO-8859-1, Russian as Hebrew ISO-8859-8, measured), and Windows-1252, which body-text.ts falls
// back to, is the better default for them.
// Bounded: the detector costs about 0.28 µs a byte, so it sees the first 8 KiB of a part, and of at
// most 8 parts a message; later parts take the charset guessed last.
import { analyse } from "chardet";

/** The detector's names of the multibyte charsets it is sure of, as WHATWG encodings. */
const MULTIBYTE = new Map([
  ["GB18030", "gb18030"],
  ["Big5", "big5"],
  ["Shift_JIS", "shift_jis"],
  ["EUC-JP", "euc-jp"],
  ["EUC-KR", "euc-kr"],
]);
// The detector's confidence, 0–100: 100 for CJK text of a sentence or more, 10 for a short Latin-1 word.
const CONFIDENT = 50;
const SAMPLE_BYTES = 8 * 1024;
const PARTS = 8;

/** Guesses a multibyte charset for the bytes of a part, or null. */
export type Guess = (bytes: Buffer) => string | null;

/** A guesser for one message: at most PARTS samples of SAMPLE_BYTES each. */
export function charsetGuesser(): Guess {
  let left = PARTS;
  let last: string | null = null;
  return (bytes) => {
    if (left === 0) return last;
    left--;
    const best = detected(bytes.subarray(0, SAMPLE_BYTES));
    const guessed = best && best.confidence >= CONFIDENT ? (MULTIBYTE.get(best.name) ?? null) : null;
    if (guessed) last = guessed;
    return guessed ?? last;
  };
}

/** The detector's best candidate; none when it fails (a guess is never worth a parse failing). */
function detected(sample: Buffer): { name: string; confidence: number } | undefined {
  try {
    return analyse(sample)[0];
  } catch {
    return undefined;
  }
}
