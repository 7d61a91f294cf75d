// Outbound transports: sendmail (default), smtp (URL) and file (an .eml per message, for tests and
// dry runs). Built on nodemailer.
import type { Config } from "../config.js";
import type { Mailer, Paths } from "../pipeline/deps.js";

export async function createMailer(_config: Config, _paths: Paths): Promise<Mailer> {
  return {
    async send() {
      throw new Error("outbound mail is not implemented yet");
    },
  };
}
