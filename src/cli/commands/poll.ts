// `ingest-mail poll imap|pop3`: the mailbox agent (Salesforce seed). Not built yet: issue 4.
import { UsageError } from "../../errors.js";

export async function run(_protocol: string, _opts: unknown): Promise<void> {
  throw new UsageError("poll is not implemented yet");
}
