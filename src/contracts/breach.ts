/** seed 000 Data Breach: the evidence kept and the human tasks tracked. Workflow-safe. */
import { z } from './input';

export interface EvidenceFile {
  key: string;
  /** Hex SHA-256 of the bytes written. */
  sha256: string;
  bytes: number;
}

export interface EvidenceManifest {
  caseId: string;
  bucket: string;
  namespace: string;
  deployment: string;
  pods: string[];
  files: EvidenceFile[];
  /** Containers whose log could not be read (never started, node gone). */
  logErrors: { pod: string; container: string; error: string }[];
  collectedAt: string;
  manifestKey?: string;
  manifestSha256?: string;
}

/** The seed's Remediation steps that only people can do; each is tracked until someone reports it done. */
export const BREACH_TASKS = ['rotate-credentials', 'notify-users'] as const;
export type BreachTask = (typeof BREACH_TASKS)[number];

export const breachTaskReportSchema = z
  .object({
    task: z.enum(BREACH_TASKS, { errorMap: () => ({ message: `must be one of ${BREACH_TASKS.join(', ')}` }) }),
    /** Roster id of who did it. */
    by: z.string().min(1).max(100),
    /** What was done: which credentials, how many users told, a ticket link. */
    note: z.string().min(1).max(2000),
  })
  .strict();
export type BreachTaskReport = z.infer<typeof breachTaskReportSchema>;
