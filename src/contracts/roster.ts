/**
 * Who may decide and who is told: the roster as workflows see it (names and roles, never how to reach
 * anyone; channels stay in the worker's configuration). Pure code: used inside workflows.
 */

export interface Member {
  id: string;
  name: string;
  roles: string[];
  /** The person's Ed25519 public key (raw, hex) that their decisions are signed with; without one they cannot decide. */
  publicKey?: string;
}

/** A set of people named directly or by role. */
export interface Audience {
  people?: string[];
  roles?: string[];
}

export function isInAudience(roster: Member[], personId: string, audience: Audience): boolean {
  if (audience.people?.includes(personId)) return true;
  const member = roster.find((m) => m.id === personId);
  return !!member && member.roles.some((r) => audience.roles?.includes(r));
}

export function membersOf(roster: Member[], audience: Audience): Member[] {
  return roster.filter((m) => isInAudience(roster, m.id, audience));
}

export function mergeAudiences(...audiences: Audience[]): Audience {
  return {
    people: [...new Set(audiences.flatMap((a) => a.people ?? []))],
    roles: [...new Set(audiences.flatMap((a) => a.roles ?? []))],
  };
}

export function describeAudience(audience: Audience): string {
  const parts = [...(audience.roles ?? []).map((r) => `role ${r}`), ...(audience.people ?? [])];
  return parts.length ? parts.join(', ') : 'nobody';
}

/**
 * seed 002 "AI System Escalation Chain": Primary AI Operations, Secondary Platform Engineering on-call,
 * Tertiary CTO/Technical Leadership, Emergency Wedding Day Support.
 */
export const WEDSYNC_ESCALATION_CHAIN: Audience[] = [
  { roles: ['ai-ops'] },
  { roles: ['platform-oncall'] },
  { roles: ['cto'] },
  { roles: ['wedding-day-support'] },
];

/** seed 000 "Escalation Contacts": On-Call Engineer, AI Team Lead, DevOps Team, Security Team. */
export const SCROLLUNIVERSITY_ESCALATION_CHAIN: Audience[] = [
  { roles: ['on-call'] },
  { roles: ['ai-team-lead'] },
  { roles: ['devops'] },
  { roles: ['security'] },
];
