// `ingest-mail import PATH...`: bulk import and replay. Not built yet: issue 4.
import { UsageError } from "../../errors.js";

export async function run(_paths: string[], _opts: unknown): Promise<void> {
  throw new UsageError("import is not implemented yet");
}
