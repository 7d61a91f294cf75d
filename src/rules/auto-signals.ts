// issue 13: the data behind the header-less auto-generated signals (detect-auto.ts decides). Every
// match is a plain string comparison on a normalised subject or address: no regex runs over mail text
// except the anchored, quantifier-free ones below.

/**
 * Subject prefixes that mail clients and servers put on their automatic replies, in the languages
 * Exchange/Outlook, Lotus Notes, Gmail and Zimbra localise them to. Matched at the very start of the
 * subject and only when followed by ":" (or "：", or nothing): "RE: Automatic reply: …" is a human
 * answering an auto-reply, and "Out of office replies do not work" is a customer's question.
 */
export const AUTO_REPLY_SUBJECTS: readonly string[] = [
  // English
  "automatic reply", "auto reply", "auto-reply", "autoreply", "auto response", "auto-response", "autoresponse",
  "automatic response", "out of office", "out of the office", "out of office reply", "out of office autoreply",
  "ooo", "away from the office", "vacation reply", "on vacation",
  // German
  "automatische antwort", "abwesenheitsnotiz", "abwesenheitsmeldung", "abwesenheitsnachricht", "automatische abwesenheitsnachricht",
  "abwesend", "nicht im büro",
  // French
  "réponse automatique", "reponse automatique", "réponse automatique d'absence", "absence du bureau", "message d'absence", "absent du bureau",
  // Spanish
  "respuesta automática", "respuesta automatica", "fuera de la oficina", "respuesta de ausencia",
  // Italian
  "risposta automatica", "fuori sede", "fuori ufficio", "risposta di assenza",
  // Dutch
  "automatisch antwoord", "afwezig", "afwezigheidsbericht", "automatisch bericht",
  // Polish
  "automatyczna odpowiedź", "automatyczna odpowiedz", "odpowiedź automatyczna", "autoodpowiedź", "poza biurem",
  // Portuguese
  "resposta automática", "resposta automatica", "ausente do escritório", "fora do escritório", "resposta de ausência",
  // Swedish, Danish, Norwegian, Finnish, Icelandic
  "automatiskt svar", "frånvaromeddelande", "autosvar", "automatisk svar", "automatisk besked", "fraværsmelding", "automaattinen vastaus", "poissaolo",
  "sjálfvirkt svar",
  // Latvian, Lithuanian, Estonian
  "automātiskā atbilde", "automātiska atbilde", "automatiskā atbilde", "automatinis atsakymas", "automaatvastus", "automaatne vastus",
  // Czech, Slovak, Slovenian, Croatian, Serbian, Hungarian, Romanian, Turkish, Greek
  "automatická odpověď", "automatická odpoveď", "samodejni odgovor", "automatski odgovor", "automatikus válasz", "răspuns automat",
  "raspuns automat", "otomatik yanıt", "otomatik cevap", "αυτόματη απάντηση",
  // Russian, Ukrainian, Bulgarian
  "автоматический ответ", "автоответ", "автоматична відповідь", "автоматичен отговор",
  // Japanese, Chinese (simplified, traditional), Korean
  "自動応答", "自動返信", "不在通知", "自动回复", "自動回覆", "自動回復", "自动答复", "자동 회신", "자동 응답",
  // Hebrew, Arabic
  "תשובה אוטומטית", "رد تلقائي",
];

/** Lotus Notes / HCL Notes writes "NAME is out of the office." (and its localised forms) as the subject. */
export const AUTO_REPLY_SUBJECT_ENDINGS: readonly string[] = [" is out of the office", " est absent(e) du bureau", " ist außer haus", " ist nicht im büro", " is afwezig"];

/** Subjects of delivery reports (failures and delay notices) from MTAs and gateways, localised as above. */
export const DSN_SUBJECTS: readonly string[] = [
  "undeliverable", "undelivered mail returned to sender", "undelivered mail", "delivery status notification", "delivery failure",
  "delivery failed", "delivery delayed", "delivery has failed", "mail delivery failed", "mail delivery failure", "mail delivery delayed",
  "delayed mail (still being retried)", "delayed mail", "returned mail", "failure notice", "nondeliverable mail", "non-delivery report",
  "message delivery failure", "warning: could not send message", "message not delivered",
  "unzustellbar", "nicht zustellbar", "übermittlungsstatusbenachrichtigung", "zustellung verzögert",
  "non remis", "non distribuable", "remise différée", "no se puede entregar", "entrega retrasada", "non recapitabile", "recapito ritardato",
  "onbestelbaar", "bezorging vertraagd", "niedostarczalne", "nie można dostarczyć", "não é possível entregar", "kan inte levereras",
  "nepiegādājams", "配信不能", "配信の遅延", "无法传递", "無法傳遞", "延迟传递",
];

/**
 * Subjects whose first word after the prefix carries the queue id, so the phrase alone is matched
 * anywhere in the first line (Exim: "Warning: message 1qAbCd-0001Xy-7Z delayed 24 hours").
 */
export const DSN_SUBJECT_WORDS: readonly [string, string][] = [["warning: message ", " delayed "]];

/** Local parts that only systems write from (beyond mailer-daemon/postmaster in detect-auto.ts). */
export const SYSTEM_LOCAL_PARTS: readonly RegExp[] = [
  // Exchange's system mailbox, the sender of its delay notices and NDRs: MicrosoftExchange + 32 hex.
  /^microsoftexchange[0-9a-f]{32}$/i,
];

/**
 * Other helpdesks', trackers' and challenge/response systems' own headers: their notifications are
 * machine mail even when they carry no Auto-Submitted (RT, OTRS/Znuny, Zendesk, Freshdesk, Jira,
 * ServiceNow, Help Scout, GitHub, GitLab, Redmine, Bugzilla, Salesforce; BoxTrapper).
 */
export const NOTIFICATION_HEADERS: readonly [string, string][] = [
  ["rt-ticket", "request tracker"],
  ["x-rt-loop-prevention", "request tracker"],
  ["x-otrs-loop", "otrs/znuny"],
  ["x-zendesk-from-account-id", "zendesk"],
  ["x-freshdesk-ticket-id", "freshdesk"],
  ["x-jira-fingerprint", "jira"],
  ["x-servicenow-generated", "servicenow"],
  ["x-helpscout-conversation-id", "help scout"],
  ["x-github-reason", "github"],
  ["x-gitlab-project", "gitlab"],
  ["x-redmine-host", "redmine"],
  ["x-bugzilla-reason", "bugzilla"],
  ["x-sfdc-lk", "salesforce"],
  ["x-zammad-ticket-id", "zammad"],
  ["x-boxtrapper", "challenge/response (boxtrapper)"],
  ["x-challenge", "challenge/response"],
];

/** X-Mailer values of notification systems (compared lower-case, whole value or its first word pair). */
export const NOTIFICATION_MAILERS: readonly [string, string][] = [
  ["zendesk mailer", "zendesk"],
  ["freshdesk", "freshdesk"],
];

/**
 * Sender domains (the From address's domain or a subdomain of it) that send only notifications or
 * challenges: helpdesk SaaS, trackers, challenge/response services, feedback loops.
 */
export const NOTIFICATION_DOMAINS: readonly [string, string][] = [
  ["zendesk.com", "zendesk"],
  ["freshdesk.com", "freshdesk"],
  ["service-now.com", "servicenow"],
  ["spamarrest.com", "challenge/response (spam arrest)"],
  ["mailinblack.com", "challenge/response (mailinblack)"],
  ["boxbe.com", "challenge/response (boxbe)"],
];

/** Whole sender addresses that send only notifications or reports. */
export const NOTIFICATION_ADDRESSES: readonly [string, string][] = [
  ["notifications@github.com", "github"],
  ["noreply@github.com", "github"],
  // Microsoft's junk-mail reporting programme (JMRP): "complaint about message from IP".
  ["staff@hotmail.com", "feedback loop (microsoft jmrp)"],
];

/** Sender local parts of trackers on shared domains (jira@acme.atlassian.net). */
export const NOTIFICATION_LOCAL_AT: readonly [string, string, string][] = [["jira", "atlassian.net", "jira"], ["confluence", "atlassian.net", "confluence"]];

/** Words of a delay warning's subject (a delay is not a bounce: the MTA is still trying). */
export const DELAY_SUBJECT_WORDS: readonly string[] = ["delay", "still being retried", "verzögert", "retrasad", "ritardat", "vertraagd", "différée", "遅延", "延迟"];
