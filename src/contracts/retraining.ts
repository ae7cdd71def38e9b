/** What the monthly retraining's activities and workflow exchange. Types only, plus the naming of its objects. */

/** The worker's retraining settings as the workflow may see them (no credentials). */
export interface RetrainingPlan {
  /** Image of the training and evaluation Jobs, already checked against the allow-list. */
  image: string;
  cpu: string;
  memory: string;
  jobTimeoutSeconds: number;
  qualityMaxBadRatio: number;
  minAccuracy: number;
  maxAccuracyDrop: number;
  /** The Deployment the A/B test splits traffic with, and the ConfigMap its model version is read from. */
  deployment: string;
  modelConfigMap: string;
  canaryWeight: number;
  abIntervalMinutes: number;
  abMaxDays: number;
  alpha: number;
  minPerArm: number;
  errorRateMax: number;
  modelsBucket: string;
}

/** Written beside the extract: what it holds and how to check it. */
export interface TrainingDataManifest {
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
  query: string;
  from: string;
  to: string;
  extractedAt: string;
}

/** seed 002 "Validate data quality" and Issue 2's data-quality query, over the training period. */
export interface DataQualityReport {
  optimizations: number;
  /** quality_score IS NULL OR quality_score < 0.7 */
  lowQuality: number;
  feedback: number;
  /** Feedback rows that name no model version. */
  withoutModelVersion: number;
  /** Feedback rows beyond the first for the same recommendation. */
  duplicateFeedback: number;
  /** The worst of the shares above: what the threshold is compared with. */
  badRatio: number;
  problems: string[];
}

/** What the evaluation Job writes to S3 (metrics.json). */
export interface ModelMetrics {
  accuracy: number;
  [metric: string]: number;
}

/** Acceptance per model version since a time, from ai_feedback. */
export interface VersionAcceptance {
  version: string;
  trials: number;
  successes: number;
}

export type ModelDecision = 'promoted' | 'rolled-back' | 'kept-current' | 'rejected' | 'cancelled';

export interface ModelVersionRecord {
  version: string;
  workflowId: string;
  artifactsUri: string;
  dataManifest?: TrainingDataManifest;
  metrics?: ModelMetrics;
  evidence?: unknown;
  decision: ModelDecision;
  decidedBy: string;
  reason?: string;
  decidedAt: string;
}

/** Where one retraining's objects live in the models bucket. */
export const retrainingPrefix = (version: string) => `retraining/${version}/`;
export const candidateName = (deployment: string) => `${deployment}-candidate`;

/** The newest promoted model, as the Sunday window deploys it: where its artifacts are and what they scored. */
export interface PromotedModel {
  version: string;
  artifactsUri: string;
  metrics: ModelMetrics;
  /** The key of the training data it was evaluated on (the extract's), when recorded. */
  dataKey?: string;
  decidedAt: string;
}

/** What the serving location holds, from the marker the Sunday window writes beside the models it deploys. */
export interface ServedModel {
  version: string;
  artifactsUri: string;
  deployedAt: string;
  workflowId: string;
}

/** The marker at the model bucket's root that names the model the serving location holds. */
export const SERVED_MODEL_MARKER = 'serving.json';
/** A promoted model's artifacts under its retraining prefix. */
export const modelArtifactsPrefix = (version: string) => `${retrainingPrefix(version)}models/`;
