/**
 * The monthly retraining's reads and records (seed 002 Monthly Maintenance, Model Retraining; Issue 2, Low
 * Recommendation Accuracy): the extract, the data-quality checks, the evaluation's metrics from S3, acceptance per
 * model version for the A/B test, and the model_versions table. Reads are parameterised and safe to retry; the
 * record is an upsert keyed by the version.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, invalidInput } from '../../contracts/failures';
import { isoTime, parseInput, z } from '../../contracts/input';
import type {
  DataQualityReport,
  ModelMetrics,
  ModelVersionRecord,
  VersionAcceptance,
} from '../../contracts/retraining';
import { postgresFailure } from '../postgres/failure';
import { storeFailure } from '../backups/store';
import { createExtractActivities, type ExtractDeps } from './extract';

const version = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a version label');
const periodSchema = z.object({ from: isoTime, to: isoTime }).strict();
const acceptanceSchema = z.object({ versions: z.array(version).min(1).max(10), since: isoTime }).strict();
const metricsSchema = z
  .object({ key: z.string().regex(/^retraining\/[A-Za-z0-9._\/-]+\.json$/, 'must be a retraining/…json key') })
  .strict();

const count = (v: string | null | undefined) => Number(v ?? 0);
const share = (part: number, whole: number) => (whole === 0 ? 0 : part / whole);

export function createRetrainingActivities(deps: ExtractDeps) {
  const { pool, s3, buckets } = deps;
  const rows = async <T extends object>(what: string, sql: string, params: unknown[]) => {
    try {
      return (await pool.query<T>(sql, params)).rows;
    } catch (err) {
      throw postgresFailure(err, what);
    }
  };

  return {
    ...createExtractActivities(deps),

    /**
     * seed 002 "Validate data quality": optimisations with quality_score NULL or below 0.7 (Issue 2's query),
     * feedback counts, feedback naming no model version, and repeated feedback for one recommendation.
     */
    async trainingDataQuality(raw: { from: string; to: string }): Promise<DataQualityReport> {
      const { from, to } = parseInput(periodSchema, raw, 'trainingDataQuality');
      const [opt] = await rows<{ total: string; low: string }>(
        'optimisation quality',
        `SELECT count(*) AS total, count(*) FILTER (WHERE quality_score IS NULL OR quality_score < 0.7) AS low
           FROM wedding_optimizations WHERE created_at >= $1 AND created_at < $2`,
        [from, to],
      );
      const [fb] = await rows<{ total: string; unversioned: string; duplicates: string }>(
        'feedback quality',
        `SELECT count(*) AS total,
                count(*) FILTER (WHERE model_version IS NULL) AS unversioned,
                count(*) - count(DISTINCT recommendation_id) AS duplicates
           FROM ai_feedback WHERE created_at >= $1 AND created_at < $2`,
        [from, to],
      );
      const report = {
        optimizations: count(opt.total),
        lowQuality: count(opt.low),
        feedback: count(fb.total),
        withoutModelVersion: count(fb.unversioned),
        duplicateFeedback: count(fb.duplicates),
      };
      const problems: string[] = [];
      if (report.feedback === 0) problems.push('no feedback in the period');
      const shares = {
        'low-quality optimisations': share(report.lowQuality, report.optimizations),
        'feedback without a model version': share(report.withoutModelVersion, report.feedback),
        'duplicate feedback': share(report.duplicateFeedback, report.feedback),
      };
      for (const [what, s] of Object.entries(shares)) if (s > 0) problems.push(`${(100 * s).toFixed(2)} % ${what}`);
      const badRatio = report.feedback === 0 ? 1 : Math.max(...Object.values(shares));
      return { ...report, badRatio: Number(badRatio.toFixed(4)), problems };
    },

    /** The metrics an evaluation Job wrote; a missing or malformed file is the evaluation's failure, not retried. */
    async readModelMetrics(raw: { key: string }): Promise<ModelMetrics> {
      const { key } = parseInput(metricsSchema, raw, 'readModelMetrics');
      let text: string;
      try {
        const res = await s3.send(new GetObjectCommand({ Bucket: buckets.models, Key: key }));
        text = await res.Body!.transformToString();
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) {
          throw ApplicationFailure.create({
            type: FailureType.ValidationFailed,
            message: `the evaluation wrote no metrics at s3://${buckets.models}/${key}`,
            nonRetryable: true,
          });
        }
        throw storeFailure(`get ${key}`, err);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const metrics = z.record(z.number()).safeParse(parsed);
      if (!metrics.success || typeof metrics.data.accuracy !== 'number') {
        throw ApplicationFailure.create({
          type: FailureType.ValidationFailed,
          message: `s3://${buckets.models}/${key} is not a JSON object of numbers with "accuracy"`,
          nonRetryable: true,
        });
      }
      return metrics.data as ModelMetrics;
    },

    /** Accepted out of all feedback per model version since a time: the A/B test's counts. */
    async acceptanceByVersion(raw: { versions: string[]; since: string }): Promise<VersionAcceptance[]> {
      const { versions, since } = parseInput(acceptanceSchema, raw, 'acceptanceByVersion');
      const found = await rows<{ model_version: string; trials: string; successes: string }>(
        'acceptance by model version',
        `SELECT model_version, count(*) AS trials, count(*) FILTER (WHERE outcome = 'accepted') AS successes
           FROM ai_feedback WHERE model_version = ANY($1) AND created_at >= $2
          GROUP BY model_version`,
        [versions, since],
      );
      return versions.map((v) => {
        const r = found.find((f) => f.model_version === v);
        return { version: v, trials: count(r?.trials), successes: count(r?.successes) };
      });
    },

    /** The database's clock: the A/B test counts feedback from the moment the candidate took traffic by it. */
    async databaseNow(): Promise<string> {
      const [r] = await rows<{ now: Date }>('the time', 'SELECT now() AS now', []);
      return r.now.toISOString();
    },

    /** The production model's record, for its evaluation metrics; undefined before the first promotion. */
    async modelVersion(raw: { version: string }): Promise<ModelVersionRecord | undefined> {
      const v = parseInput(z.object({ version }).strict(), raw, 'modelVersion').version;
      const [r] = await rows<{
        version: string;
        workflow_id: string;
        artifacts_uri: string;
        metrics: ModelMetrics;
        decision: ModelVersionRecord['decision'];
        decided_by: string;
        reason: string | null;
        decided_at: Date;
      }>('model version', 'SELECT * FROM model_versions WHERE version = $1', [v]);
      if (!r) return undefined;
      return {
        version: r.version,
        workflowId: r.workflow_id,
        artifactsUri: r.artifacts_uri,
        metrics: r.metrics,
        decision: r.decision,
        decidedBy: r.decided_by,
        reason: r.reason ?? undefined,
        decidedAt: r.decided_at.toISOString(),
      };
    },

    /** One row per version: a retry, or the same run deciding again, updates it. */
    async recordModelVersion(record: ModelVersionRecord): Promise<void> {
      if (!record || typeof record !== 'object') throw invalidInput('record', 'must be an object');
      parseInput(
        z.object({ version, workflowId: z.string().min(1), decidedBy: z.string().min(1) }),
        record,
        'recordModelVersion',
      );
      await rows(
        'record model version',
        `INSERT INTO model_versions (version, workflow_id, artifacts_uri, data_manifest, metrics, evidence, decision,
                                     decided_by, reason, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (version) DO UPDATE SET
           workflow_id = EXCLUDED.workflow_id, artifacts_uri = EXCLUDED.artifacts_uri,
           data_manifest = EXCLUDED.data_manifest, metrics = EXCLUDED.metrics, evidence = EXCLUDED.evidence,
           decision = EXCLUDED.decision, decided_by = EXCLUDED.decided_by, reason = EXCLUDED.reason,
           decided_at = EXCLUDED.decided_at, recorded_at = now()`,
        [
          record.version,
          record.workflowId,
          record.artifactsUri,
          JSON.stringify(record.dataManifest ?? {}),
          JSON.stringify(record.metrics ?? {}),
          JSON.stringify(record.evidence ?? {}),
          record.decision,
          record.decidedBy,
          record.reason ?? null,
          record.decidedAt,
        ],
      );
    },
  };
}
