/**
 * ScrollUniversity theological alignment, seed 000 "Issue 5: Theological Alignment Failures":
 *
 *   curl http://localhost:3000/api/qa/theological-alignment/metrics      # Check theological alignment metrics
 *   curl http://localhost:3000/api/qa/theological-alignment/flagged      # Review flagged content
 *   curl -X POST http://localhost:3000/api/qa/review/create -d '{"contentId": "xxx", "priority": "high"}'
 *
 * Reads the metrics and the flagged content; each flagged item gets a review in the QA service and a gate of its
 * own for the faculty reviewers ("Implement human-in-the-loop for sensitive content"): approve keeps the content as
 * written, reject withdraws it. Each outcome goes to the QA service and the audit trail. All gates are open at
 * once, so reviewers take items in any order; an item left for `reviewHours` is put to the AI Team Lead as well.
 * Afterwards the metrics are read again: an alignment score still under the SLO, or content still flagged, pages
 * the AI Team Lead and fails the workflow with RemediationFailed.
 *
 *   temporal workflow start --type reviewTheologicalAlignment --task-queue aiops-runbooks --workflow-id theology-1 \
 *     --input '{"requestedBy":"oncall","reason":"faculty complaints"}'
 *   temporal workflow update execute --workflow-id theology-1 --name decide \
 *     --input '{"gate":"review:quiz-romans-5-q4","decision":"reject","by":"faculty","reason":"contradicts notes"}'
 */
import { setHandler, workflowInfo } from '@temporalio/workflow';
import type { FlaggedContent } from '../../contracts/content';
import { gatedRemediation } from '../gates/gated-remediation';
import { changes, loadDirectory, probes } from '../policies';
import {
  parseReviewTheologicalAlignmentInput,
  reviewGateName,
  theologicalReviewStatusQuery,
  type ItemReview,
  type ReviewTheologicalAlignmentInput,
  type ReviewTheologicalAlignmentResult,
  type TheologicalReviewStatus,
} from './messages';

const HOUR = 3_600_000;
/** Who hears of the outcome: the AI Team Lead, who owns prompt and model quality. */
const AUDIENCE = { roles: ['ai-team-lead'] };

export async function reviewTheologicalAlignment(
  rawInput?: ReviewTheologicalAlignmentInput,
): Promise<ReviewTheologicalAlignmentResult> {
  const input = parseReviewTheologicalAlignmentInput(rawInput);
  const info = workflowInfo();
  const { audit, gates, conclude } = gatedRemediation('theological-alignment', 'theology', AUDIENCE);
  const status: TheologicalReviewStatus = { step: 'checking', flagged: [], reviews: [], gates: [] };
  setHandler(theologicalReviewStatusQuery, () => ({
    ...status,
    reviews: status.reviews.map((r) => ({ ...r })),
    gates: gates.status(),
  }));

  const before = await probes.theologicalAlignment();
  status.flagged = before.items;
  audit.record({
    step: 'theological-alignment',
    actor: input.requestedBy,
    action: 'check',
    outcome: `score ${before.alignmentScore}, ${before.flaggedCount} flagged`,
    reason: input.reason,
  });
  if (before.items.length === 0 && before.alignmentScore >= input.minAlignment) {
    status.step = 'done';
    await audit.flush();
    return { before, reviews: [] };
  }

  status.step = 'reviewing';
  gates.setRoster((await loadDirectory()).members);
  const reviewOne = async (item: FlaggedContent): Promise<ItemReview> => {
    // One review per item: the key is this workflow's and the item's, so a retry finds the same review.
    const opened = await changes.openContentReview({
      contentId: item.contentId,
      priority: 'high',
      key: `${info.workflowId}/${item.contentId}`,
    });
    const review: ItemReview = { contentId: item.contentId, reviewId: opened.reviewId };
    status.reviews.push(review);
    const decision = await gates.wait({
      name: reviewGateName(item.contentId),
      prompt:
        `Review ${item.contentId}${item.course ? ` (${item.course})` : ''}: alignment ${item.score}` +
        `${item.reason ? `, flagged for ${item.reason}` : ''}. Approve keeps it as written; reject withdraws it.`,
      deciders: { roles: ['faculty-reviewer'] },
      tierTimeoutMs: input.reviewHours * HOUR,
      escalation: [{ roles: ['ai-team-lead'] }],
      onExhausted: 'keep-waiting',
      remindEveryMs: 24 * HOUR,
    });
    const outcome = decision.decision === 'approve' ? 'approved' : 'withdrawn';
    await changes.completeContentReview({
      reviewId: opened.reviewId,
      outcome,
      reviewer: decision.by,
      key: `${info.workflowId}/${item.contentId}/outcome`,
    });
    Object.assign(review, { outcome, reviewer: decision.by, reason: decision.reason });
    audit.record({
      step: `review:${item.contentId}`,
      actor: decision.by,
      action: 'content-review',
      outcome,
      reason: decision.reason,
      details: { reviewId: opened.reviewId, course: item.course, score: item.score },
    });
    return review;
  };
  const reviews = await Promise.all(before.items.slice(0, input.maxItems).map(reviewOne));
  await gates.settled();

  status.step = 'verifying';
  const after = await probes.theologicalAlignment();
  const summary =
    `${reviews.length} reviewed (${reviews.filter((r) => r.outcome === 'withdrawn').length} withdrawn); ` +
    `alignment ${before.alignmentScore} → ${after.alignmentScore}, ${after.flaggedCount} still flagged`;
  await conclude(status, {
    step: 'theological-alignment',
    fixed: after.alignmentScore >= input.minAlignment && after.items.length === 0,
    summary,
    failure: `alignment still below ${input.minAlignment} or content still flagged after review: ${summary}`,
    hint: 'check prompts and training data (seed 000 Root Cause Analysis)',
    details: [{ reviews }],
  });
  return { before, reviews, after };
}
