// nodemailer's addressparser, bounded (issue 9.3). It is quadratic in some inputs: a run of spaces
// between two words (200 KB: a minute) and long runs of quotes and commas. Whitespace runs are
// folded to one space first (a display name loses nothing a reader sees) and one header value is
// read up to MAX_ADDRESS_HEADER characters: past that, a list of some thousand addresses, the rest
// is ignored. The bundle (scripts/bundle.mjs) gives mailparser this module in place of the original.
import addressparser from "nodemailer/lib/addressparser/index.js";

export const MAX_ADDRESS_HEADER = 32 * 1024;

function boundedAddressparser(value: string, options?: { flatten?: boolean }): ReturnType<typeof addressparser> {
  const folded = String(value ?? "").replace(/\s+/g, " ");
  return (addressparser as (v: string, o?: { flatten?: boolean }) => ReturnType<typeof addressparser>)(folded.length > MAX_ADDRESS_HEADER ? folded.slice(0, MAX_ADDRESS_HEADER) : folded, options);
}

export default boundedAddressparser;
