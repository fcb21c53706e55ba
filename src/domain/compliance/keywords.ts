/**
 * Opt-out and opt-in keywords (contract §5): the whole message, case-insensitive, with surrounding
 * spaces and punctuation ignored — "STOP", " Stop. ", "stop!" count; "stop please" does not.
 */
export type Keyword = "stop" | "start" | "help";

const KEYWORDS: Record<string, Keyword> = {
  STOP: "stop",
  STOPALL: "stop",
  UNSUBSCRIBE: "stop",
  CANCEL: "stop",
  END: "stop",
  QUIT: "stop",
  REVOKE: "stop",
  OPTOUT: "stop",
  START: "start",
  UNSTOP: "start",
  YES: "start",
  HELP: "help",
  INFO: "help",
};

// Leading/trailing whitespace, punctuation and symbols (emoji included) are not part of the word.
const EDGES = /^[\s\p{P}\p{S}]+|[\s\p{P}\p{S}]+$/gu;

export function detectKeyword(body: string): Keyword | null {
  const word = body.replace(EDGES, "").toUpperCase();
  return KEYWORDS[word] ?? null;
}

/** Twilio's own verdict when Advanced Opt-Out is on (the OptOutType field). */
export function keywordFromOptOutType(value: string | undefined): Keyword | null {
  return value ? (KEYWORDS[value.toUpperCase()] ?? null) : null;
}
