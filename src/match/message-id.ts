// Outbound Message-IDs have the form <MAILGUID.ISSUEGUID@HOST> (domain.md §3.1, Enate) so that a
// reply names its issue without any table lookup of sent mail.
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const FORM = new RegExp(`^<?(${UUID})\\.(${UUID})@([^>\\s]+)>?$`, "i");

export function outboundMessageId(mailGuid: string, issueGuid: string, host: string): string {
  return `<${mailGuid}.${issueGuid}@${host}>`;
}

export function issueGuidFromMessageId(messageId: string): string | null {
  const m = FORM.exec(messageId.trim());
  return m ? m[2].toLowerCase() : null;
}
