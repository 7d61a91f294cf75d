// The lines mail clients write where the quoted history of a reply begins (issue 13 point 1), per
// client and language. Every test here looks at ONE line of bounded length (MAX_MARKER_LINE): a long
// line is never a marker, so no pattern can cost more than a constant per line (mail is hostile).

export const MAX_MARKER_LINE = 400;

const lower = (s: string) => s.toLowerCase();
const set = (words: string[]) => new Set(words.map(lower));

/** "-----Original Message-----" (Outlook, Lotus) and Thunderbird's "-------- Original Message --------". */
const ORIGINAL = set([
  "original message",
  "ursprüngliche nachricht",
  "originalnachricht",
  "original nachricht",
  "original-nachricht",
  "message d'origine",
  "message original",
  "mensaje original",
  "messaggio originale",
  "oorspronkelijk bericht",
  "originalmeddelande",
  "ursprungligt meddelande",
  "wiadomość oryginalna",
  "oryginalna wiadomość",
  "original meddelelse",
  "oprindelig meddelelse",
  "opprinnelig melding",
  "mensagem original",
  "исходное сообщение",
  "alkuperäinen viesti",
  "původní zpráva",
  "eredeti üzenet",
  "原始邮件",
  "原始郵件",
  "元のメッセージ",
]);

/** Forwarded-message markers: Gmail's "---------- Forwarded message ---------", Thunderbird's
 * "-------- Forwarded Message --------", Apple Mail's "Begin forwarded message:", localised. */
const FORWARD = set([
  "forwarded message",
  "forwarded message follows",
  "begin forwarded message",
  "weitergeleitete nachricht",
  "anfang der weitergeleiteten nachricht",
  "message transféré",
  "début du message réexpédié",
  "début du message transféré",
  "mensaje reenviado",
  "inicio del mensaje reenviado",
  "messaggio inoltrato",
  "inizio messaggio inoltrato",
  "doorgestuurd bericht",
  "begin doorgestuurd bericht",
  "vidarebefordrat meddelande",
  "videresendt meddelelse",
  "videresendt melding",
  "przekazana wiadomość",
  "wiadomość przekazana dalej",
  "mensagem encaminhada",
  "início da mensagem reencaminhada",
  "пересылаемое сообщение",
  "转发的邮件",
  "転送されたメッセージ",
]);

/** The text between dashes (or before a trailing colon) of a separator line, lower-cased, or null. */
function separatorText(line: string): string | null {
  if (line.length > 100 || line.length < 5) return null;
  const t = line.trim();
  if (!"-=_*".includes(t[0]) && t[t.length - 1] !== ":" && t[t.length - 1] !== "：") return null;
  if (t.length > 80 || t.length < 5) return null;
  const rule = (c: string) => c === "-" || c === "=" || c === "_" || c === "*";
  let a = 0;
  while (a < t.length && rule(t[a])) a++;
  let b = t.length;
  while (b > a && rule(t[b - 1])) b--;
  if (a >= 2 && t.length - b >= 2) return lower(t.slice(a, b).trim());
  if (a > 0 || b < t.length) return null;
  const last = t[t.length - 1];
  return last === ":" || last === "：" ? lower(t.slice(0, -1).trim()) : null;
}

export function isOriginalSeparator(line: string): boolean {
  return separatorKind(line) === "original";
}

export function isForwardMarker(line: string): boolean {
  return separatorKind(line) === "forward";
}

/** "original" (the history of a reply), "forward" (a forwarded mail follows) or null. */
export function separatorKind(line: string): "original" | "forward" | null {
  const s = separatorText(line);
  return s === null ? null : ORIGINAL.has(s) ? "original" : FORWARD.has(s) ? "forward" : null;
}

/** A separator's title standing alone, without its dashes: BlackBerry's "  Original Message" above its header block. */
export function isBareSeparatorTitle(line: string): boolean {
  if (line.length > 60) return false;
  const t = lower(line.trim());
  return ORIGINAL.has(t) || FORWARD.has(t);
}

/** Outlook's "________________________________" rule above its header block (OWA, mobile). */
export const isUnderscoreRule = (line: string) => line[0] === "_" && line.length <= MAX_MARKER_LINE && /^_{20,}\s*$/.test(line);

// Outlook/Exchange header blocks of a reply or forward, by language: the sender line, then within a
// few lines a date line and a recipient or subject line. Keys may be bold (*From:*) after
// HTML-to-text conversion, and French puts a space before the colon.
const FROM_KEYS = set([
  "from", "von", "de", "da", "van", "från", "od", "fra", "от", "від", "lähettäjä", "feladó", "kimden", "từ", "dari", "发件人", "寄件者", "差出人", "보낸 사람",
  // Romanian, Croatian, Lithuanian, Latvian, Estonian, Greek, Thai, Hebrew, Arabic.
  "de la", "šalje", "nuo", "no", "saatja", "από", "จาก", "מאת", "من",
]);
const DATE_KEYS = set([
  "sent", "date", "gesendet", "datum", "envoyé", "date d'envoi", "enviado", "enviada em", "enviado em", "fecha", "inviato", "data",
  "verzonden", "verstuurd", "skickat", "wysłano", "wysłane", "sendt", "отправлено", "дата", "lähetetty", "elküldve", "gönderildi",
  "odesláno", "odoslané", "надіслано", "đã gửi", "dikirim",
  "trimis", "poslano", "poslato", "išsiųsta", "nosūtīts", "saadetud", "στάλθηκε", "изпратено", "ส่ง", "נשלח", "تاريخ الإرسال",
  "发送时间", "日期", "寄件日期", "送信日時", "日付", "보낸 날짜",
]);
const TO_SUBJECT_KEYS = set([
  "to", "cc", "subject", "an", "betreff", "à", "objet", "para", "asunto", "a", "oggetto", "aan", "onderwerp", "till", "ämne", "do",
  "temat", "til", "emne", "assunto", "кому", "тема", "vastaanottaja", "aihe", "címzett", "tárgy", "kime", "konu",
  "komu", "předmět", "predmet", "đến", "chủ đề", "kepada", "subjek",
  "către", "subiect", "prima", "kam", "tema", "za", "zadeva", "tēma", "adressaat", "teema", "προς", "θέμα", "до", "ถึง", "เรื่อง", "אל", "נושא", "إلى", "الموضوع",
  "收件人", "主题", "收件者", "主旨", "宛先", "件名", "받는 사람", "제목",
]);
/** Header lines a forwarded message carries besides those (left out of its kept content). */
const OTHER_HEADER_KEYS = set(["reply-to", "antwort an", "répondre à", "responder a", "rispondi a", "beantwoorden", "svara till", "odpowiedz do", "kopie", "cci", "bcc"]);

/** The key of a "Key: value" line (bold markers and French spacing allowed), lower-cased, or null. */
export function headerKey(line: string): string | null {
  if (line.length > MAX_MARKER_LINE) return null;
  let colon = -1;
  for (let k = 0; k < 41 && k < line.length && colon < 0; k++) if (line[k] === ":" || line[k] === "：") colon = k;
  if (colon < 0) return null;
  const m = /^[ \t]*\*{0,2}([^:：*\t]{1,24}?)\*{0,2}[ \t]?[:：]\*{0,2}(?:[ \t]|$)/.exec(line);
  return m ? lower(m[1].trim()) : null;
}

/**
 * Is line i the first line of an Outlook-style header block ("From: … Sent: … To: …")? GMX and
 * web.de put the date first ("Gesendet: … um 15:14 Uhr", "Von: … <address>"): a block that starts
 * with its date line must show a clock time there and an address on its sender line, so that a
 * customer's own "Datum: … / Von: Berlin / An: München" stays text, and so does a raw header
 * pasted or bounced ("Date: … / From: … / To: …").
 */
export function isHeaderBlockAt(lines: readonly string[], i: number): boolean {
  const k = headerKey(lines[i]);
  if (k === null) return false;
  const dateFirst = !FROM_KEYS.has(k);
  // Not "Date:": a pasted or bounced raw header (RFC 5322) starts so, and is the customer's text.
  if (dateFirst && !(DATE_KEYS.has(k) && k !== "date" && /\d[:.]\d\d/.test(lines[i]))) return false;
  let from = !dateFirst;
  let date = false;
  let other = false;
  for (let j = i + 1; j < Math.min(lines.length, i + 7); j++) {
    const key = headerKey(lines[j]);
    if (key === null) {
      if (/^[ \t]+\S/.test(lines[j])) continue; // a folded address list
      if (lines[j].trim() === "") continue;
      break;
    }
    if (dateFirst && FROM_KEYS.has(key)) from = hasAddress(lines[j]);
    else if (DATE_KEYS.has(key)) date = true;
    else if (TO_SUBJECT_KEYS.has(key)) other = true;
    if (from && (date || dateFirst) && other) return true;
  }
  return false;
}

/** A header line of a forwarded message's own header block (any language above). */
export function isForwardHeaderLine(line: string): boolean {
  const k = headerKey(line);
  return k !== null && (FROM_KEYS.has(k) || DATE_KEYS.has(k) || TO_SUBJECT_KEYS.has(k) || OTHER_HEADER_KEYS.has(k));
}

// Attribution lines: "On <date>, <name> wrote:" and its translations. The verb marks it; a date or
// an address makes it an attribution rather than a sentence of the customer's ("On Monday John
// wrote:" stays text unless quoted lines follow it).
const VERBS = [
  "wrote", "writes", "schrieb", "schreibt", "a écrit", "escribió", "escribio", "ha scritto", "schreef", "escreveu", "skrev",
  "napisał", "napisała", "napisał(a)", "pisze", "написал", "написала", "написал(а)", "kirjoitti", "írta", "yazdı", "napsal", "napsala",
  "写道", "寫道", "のメッセージ", "書きました", "작성",
  // iOS Mail in Dutch ("… heeft … het volgende geschreven:"), Gmail in Greek, Romanian, Slovak,
  // Croatian, Ukrainian; Horde's "Zitat von … :" (quoted lines must follow: it has no date).
  "geschreven", "έγραψε", "a scris", "napísal", "napisao", "napisala", "написав", "zitat von",
  // Vietnamese, Indonesian and Malay, Hindi.
  "đã viết", "menulis", "ने लिखा",
  // Persian, Arabic, Bulgarian, Thai.
  "نوشت", "كتب", "написа", "เขียนว่า",
];
const LEADS = ["on ", "am ", "le ", "el ", "il ", "op ", "em ", "den ", "w dniu ", "dnia ", "dne ", "в ", "pe ", "on\u00a0"];

function hasVerb(s: string): boolean {
  const l = lower(s);
  return VERBS.some((v) => l.includes(v));
}

const endsWithColon = (s: string) => /[:：]\s*$/.test(s);

// Bidirectional formatting marks (Gmail wraps right-to-left attributions in them): not text.
const BIDI_MARK = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const BIDI = new RegExp(BIDI_MARK.source, "g");
const isBidi = (c: string) => BIDI_MARK.test(c);

function endsWithColonFast(s: string): boolean {
  let k = s.length - 1;
  while (k >= 0 && (s[k] === " " || s[k] === "\t" || s[k] === "\u00a0" || isBidi(s[k]))) k--;
  return k >= 0 && (s[k] === ":" || s[k] === "：");
}

/** Zoho's "---- On …, Alice <alice@example.com> wrote ----": the attribution between runs of dashes, or null. */
function dashedAttribution(line: string): string | null {
  if (line.length > MAX_MARKER_LINE || !line.startsWith("---") || !line.trimEnd().endsWith("---")) return null;
  const inner = /^-{3,}[ \t]*(\S.{8,}?)[ \t]*-{3,}[ \t]*$/.exec(line);
  return inner ? `${inner[1]}:` : null;
}
const hasAddress = (s: string) => /[^\s<>]@[^\s<>]/.test(s);
const hasDigit = (s: string) => /\d/.test(s);
// What attributions carry and a customer's "On 3 May I wrote:" does not: a clock time (15:14,
// 15.14), a year, or a numeric date (09.01.24, 9/1/24).
const hasTimeOrDate = (s: string) => /\d[:.]\d\d|(?:^|\D)(?:19|20)\d\d(?:\D|$)|\d[./-]\d{1,2}[./-]\d\d|\d+年/.test(s);
// "I wrote:", "ich schrieb", "schrieb ich": the customer speaking of their own earlier mail.
const firstPerson = (s: string) => /(?:^|[\s,])(?:i|we|ich|wir|je|nous|yo|io|ik|wij|jag|vi)\s+(?:wrote|schrieb|ai écrit|avons écrit|escribí|ho scritto|schreef|skrev)\b|\bschrieb\s+(?:ich|wir)\b/i.test(s);

/**
 * The number of lines (1-3) an attribution starting at line i spans, or 0. Gmail wraps long ones
 * ("On Tue, … Alice <\nalice@example.com> wrote:"). `strong` asks for one that stands on its own,
 * without quoted lines after it: it must begin as attributions do and name a date or an address.
 */
export function attributionAt(lines: readonly string[], i: number, strong: boolean): number {
  const dashed = lines[i]?.[0] === "-" ? dashedAttribution(lines[i]) : null;
  if (dashed !== null) return isAttribution(dashed, strong) ? 1 : 0;
  // Cheap test first (this runs on every line): one of the lines must end with a colon.
  let ends = false;
  for (let n = 0; n < 3 && i + n < lines.length && !ends; n++) ends = endsWithColonFast(lines[i + n]);
  if (!ends) return 0;
  let joined = "";
  for (let n = 0; n < 3 && i + n < lines.length; n++) {
    const l = lines[i + n];
    if (l.length > MAX_MARKER_LINE || (n > 0 && l.trim() === "")) return 0;
    joined = n === 0 ? l.replace(BIDI, "").trim() : `${joined} ${l.replace(BIDI, "").trim()}`;
    if (endsWithColon(joined)) return isAttribution(joined, strong) ? n + 1 : 0;
  }
  return 0;
}

function isAttribution(s: string, strong: boolean): boolean {
  if (s.length > MAX_MARKER_LINE) return false;
  // Gmail in Japanese, older Gmail everywhere: "2024年1月9日(火) 15:14 Alice <alice@example.com>:",
  // "2024-01-09 15:14 GMT+01:00 Alice <alice@example.com>:".
  // Gmail in Russian: "вт, 9 янв. 2024 г. в 15:14, Alice <alice@example.com>:".
  const dateAndAddress = hasDigit(s) && /<[^<>\s]+@[^<>\s]+>\s*[:：]$/.test(s);
  if (dateAndAddress) return true;
  // Any language, just above a quoted block: Gmail's "… <address> <verb>:" with a clock time, for
  // the languages whose verb is not listed. Alone (strong) a verb is still needed.
  if (!strong && /\d[:.]\d\d/.test(s) && /<[^<>\s]+@[^<>\s]+>/.test(s)) return true;
  if (!hasVerb(s)) return false;
  if (!strong) return true;
  const l = lower(s);
  const leads = LEADS.some((p) => l.startsWith(p));
  // Chinese Gmail: "Alice <alice@example.com> 于2024年1月9日周二 15:14写道：" (the verb at the end).
  if (firstPerson(s)) return false;
  return (leads && (hasTimeOrDate(s) || hasAddress(s))) || (hasAddress(s) && hasDigit(s));
}

// One-line signatures mobile clients append ("Sent from my iPhone"): dropped when they are the last
// line of the new text, never elsewhere, and only when they name a device or a mail app (a
// customer's "Sent from my office, …" is text).
const DEVICE =
  "(?:iphone|ipad|ipod|android|samsung|galaxy|huawei|honor|xiaomi|redmi|pixel|blackberry|smartphone|mobile|mobil|móvil|movil|handy|telefon|telefone|telefono|teléfono|téléphone|tablet|windows phone|sony|htc|nokia|motorola|oneplus|oppo|fairphone)(?:[\\w .'’-]{0,30})";
/**
 * A pattern with the literal, lower-case start of every line it matches: a line that starts
 * otherwise is not tested. Without it every mail's last line ran all 20 patterns, and V8 compiles
 * a pattern on its first use: 3 ms of every cold ingest (profiled; issue 9, cold start).
 */
interface Signature {
  lead: string;
  re: RegExp;
}
const mobile = (lead: string, tail = ""): Signature => ({ lead: lead.split("(")[0].toLowerCase(), re: new RegExp(`^${lead} ${DEVICE}${tail}[.!]?$`, "i") });
const MOBILE: Signature[] = [
  mobile("sent from my"),
  mobile("sent from"),
  { lead: "sent from ", re: /^sent from (mail|outlook) for (windows|ios|android|mac)( \d{1,2})?[.!]?$/i },
  { lead: "sent from ", re: /^sent from (yahoo mail|outlook|gmail|proton ?mail)( for (iphone|android|ios))?[.!]?$/i },
  { lead: "sent with proton", re: /^sent with proton ?mail secure email[.!]?$/i },
  { lead: "get outlook for ", re: /^get outlook for (ios|android)(<https?:\/\/[^\s<>]{1,60}>)?[.!]?$/i },
  mobile("von meinem", " gesendet"),
  mobile("gesendet von meinem"),
  mobile("envoyé de mon"),
  mobile("enviado desde mi"),
  mobile("enviado do meu"),
  mobile("inviato da(?:l mio)?"),
  mobile("verzonden (?:vanaf|met)(?: mijn)?"),
  mobile("verstuurd vanaf mijn"),
  mobile("skickat från min"),
  mobile("wysłane z(?: mojego)?"),
  mobile("sendt fra min"),
  mobile("отправлено с"),
  { lead: "从我的", re: /^从我的\S{1,20}发送$/ },
  { lead: "iphoneから送信", re: /^iPhoneから送信$/ },
];

export function isMobileSignature(line: string): boolean {
  const t = line.trim();
  if (t.length === 0 || t.length > 60) return false;
  const l = lower(t);
  return MOBILE.some((m) => l.startsWith(m.lead) && m.re.test(t));
}

/** The patterns, for the test that checks each lead against its pattern. */
export const mobileSignatures: readonly Readonly<Signature>[] = MOBILE;

/** Subjects of forwarded mail: Fwd:, FW:, WG: (de), TR: (fr), RV: (es), I: (it), Doorst: (nl), VB: (sv), PD: (pl), ENC: (pt). */
export const isForwardSubject = (subject: string | null | undefined) =>
  !!subject && /^\s*(?:\[[^\]]{0,40}\]\s*)?(fwd?|fw|wg|tr|rv|i|doorst|vb|vs|pd|enc|rif|wtr|转发|転送)\s*[:：]/i.test(subject.slice(0, 200));
