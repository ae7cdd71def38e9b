/** reviewTheologicalAlignment's input, status query and result. */
import { defineQuery } from '@temporalio/workflow';
import type { FlaggedContent, ReviewOutcome, TheologicalAlignment } from '../../contracts/content';
import type { GateStatus } from '../../contracts/gates';
import { optionalObject, parseInput, wholeNumber, z } from '../../contracts/input';

export const reviewTheologicalAlignmentInputSchema = optionalObject({
  /** Who asked (roster id, or the incident that started it); recorded in the audit trail. */
  requestedBy: z.string().min(1).max(100).default('operator'),
  reason: z.string().max(2000).optional(),
  /** The alignment score content must reach again: the seeds' 90 % accuracy SLO. */
  minAlignment: z.number().min(0).max(1).default(0.9),
  /** How long the faculty reviewers have per item before the AI Team Lead is asked too. */
  reviewHours: wholeNumber(1, 24 * 14).default(48),
  /** At most this many flagged items are put to review in one run; the rest wait for the next. */
  maxItems: wholeNumber(1, 100).default(25),
});
export type ReviewTheologicalAlignmentInput = z.input<typeof reviewTheologicalAlignmentInputSchema>;
export const parseReviewTheologicalAlignmentInput = (raw: unknown) =>
  parseInput(reviewTheologicalAlignmentInputSchema, raw, 'reviewTheologicalAlignment');

export interface ItemReview {
  contentId: string;
  reviewId: string;
  outcome?: ReviewOutcome;
  reviewer?: string;
  reason?: string;
}

export interface ReviewTheologicalAlignmentResult {
  before: TheologicalAlignment;
  reviews: ItemReview[];
  after?: TheologicalAlignment;
}

export interface TheologicalReviewStatus {
  step: 'checking' | 'reviewing' | 'verifying' | 'done' | 'escalated';
  flagged: FlaggedContent[];
  reviews: ItemReview[];
  gates: GateStatus[];
}

export const theologicalReviewStatusQuery = defineQuery<TheologicalReviewStatus>('status');

/** The gate of one flagged item: `review:<contentId>`, within the gate's name limit. */
export const reviewGateName = (contentId: string) => `review:${contentId}`.slice(0, 100);
