/** What ScrollUniversity's content-quality and vector-store endpoints report (seed 000 Issues 5 and 7). Types only. */

export interface FlaggedContent {
  contentId: string;
  course?: string;
  /** The checker's alignment score of this piece, 0-1. */
  score: number;
  reason?: string;
}

export interface TheologicalAlignment {
  /** Share of checked content judged aligned, 0-1; the seeds' accuracy SLO is 90 %. */
  alignmentScore: number;
  flaggedCount: number;
  items: FlaggedContent[];
}

/** approved: the content stands as written; withdrawn: it is taken down for rewriting. */
export type ReviewOutcome = 'approved' | 'withdrawn';

export interface ContentReview {
  reviewId: string;
  outcome: ReviewOutcome;
  reviewer: string;
}

export interface VectorStoreReport {
  status: string;
  healthy: boolean;
  error?: string;
  totalVectors: number;
  indexedVectors: number;
  indexedRatio: number;
}

export interface IndexRebuild {
  rebuildId: string;
  state: string;
  /** 0-1. */
  progress: number;
}

export interface VectorQueryResult {
  ok: boolean;
  matches: number;
  error?: string;
}
