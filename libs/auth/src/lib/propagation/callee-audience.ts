/**
 * The audience of the service answering `subject`: the first pattern of `patterns` that matches
 * (NATS wildcards: `*` one token, `>` one or more trailing tokens), else the subject's first token
 * (`inventory.reserve` → `inventory`).
 */
export function calleeAudienceForSubject(
  subject: string,
  patterns: Readonly<Record<string, string>>,
): string {
  for (const [pattern, audience] of Object.entries(patterns)) {
    if (matchesSubject(pattern, subject)) return audience;
  }
  return subject.split('.')[0];
}

/** Whether a NATS subject matches a subscription-style pattern. */
export function matchesSubject(pattern: string, subject: string): boolean {
  const wanted = pattern.split('.');
  const tokens = subject.split('.');
  for (let index = 0; index < wanted.length; index += 1) {
    const token = wanted[index];
    if (token === '>') return index === wanted.length - 1 && tokens.length > index;
    if (index >= tokens.length) return false;
    if (token !== '*' && token !== tokens[index]) return false;
  }
  return tokens.length === wanted.length;
}
