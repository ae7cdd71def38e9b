/**
 * ScrollUniversity's own API, seed 000 Issue 5 (theological alignment: metrics, flagged content, reviews) and
 * Issue 7 (vector store: status, index statistics, rebuild, a test query). The token and the base URL stay in the
 * worker's configuration. Reads are always safe to retry; each POST says what makes its retry safe.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ScrollUniversityConfig } from '../config';
import { FailureType, invalidInput } from '../contracts/failures';
import type {
  ContentReview,
  FlaggedContent,
  IndexRebuild,
  TheologicalAlignment,
  VectorQueryResult,
  VectorStoreReport,
} from '../contracts/content';
import { pollPause } from './kubernetes/client';
import { expectObject } from './http-client';
import { wedsyncGet, wedsyncPost, type HttpDeps } from './http';

export interface ScrollUniversityContentDeps extends HttpDeps {
  scrollUniversity: ScrollUniversityConfig;
  pollIntervalMs?: number;
}

const num = (v: unknown, fallback = 0) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const text = (v: unknown) => (typeof v === 'string' ? v : undefined);

export function createScrollUniversityContentActivities(deps: ScrollUniversityContentDeps) {
  const base = () => {
    const url = deps.scrollUniversity.apiUrl;
    if (!url) {
      throw ApplicationFailure.create({
        type: FailureType.InvalidInput,
        message: 'SCROLLUNIVERSITY_API_URL is not set: the ScrollUniversity runbooks have no API to call',
        nonRetryable: true,
      });
    }
    return url.replace(/\/$/, '');
  };
  const get = async (path: string, keepErrorBodies = false) => {
    const url = `${base()}${path}`;
    const res = await wedsyncGet(url, deps, keepErrorBodies);
    return { status: res.status, doc: expectObject(url, res) };
  };
  const post = async (path: string, body: unknown, key: string) => {
    const url = `${base()}${path}`;
    return expectObject(url, await wedsyncPost(url, deps, body, key));
  };

  async function rebuildStatus(): Promise<IndexRebuild> {
    const { doc } = await get('/api/vector-store/rebuild/status');
    return {
      rebuildId: String(doc.rebuildId ?? ''),
      state: String(doc.state ?? 'unknown'),
      progress: num(doc.progress),
    };
  }

  return {
    /** `curl /api/qa/theological-alignment/metrics` and `.../flagged`. */
    async theologicalAlignment(): Promise<TheologicalAlignment> {
      const { doc: metrics } = await get('/api/qa/theological-alignment/metrics');
      const { doc: flagged } = await get('/api/qa/theological-alignment/flagged');
      const items: FlaggedContent[] = (Array.isArray(flagged.items) ? flagged.items : []).flatMap((raw: unknown) => {
        const item = (raw ?? {}) as Record<string, unknown>;
        const contentId = text(item.contentId);
        return contentId
          ? [{ contentId, course: text(item.course), score: num(item.score), reason: text(item.reason) }]
          : [];
      });
      return { alignmentScore: num(metrics.alignmentScore), flaggedCount: num(metrics.flaggedCount), items };
    },

    /**
     * `POST /api/qa/review/create`. Safe to retry: the Idempotency-Key is the workflow's and the content's, and the
     * QA service keeps one review per piece of content.
     */
    async openContentReview(input: { contentId: string; priority: 'high' | 'normal'; key: string }) {
      const doc = await post(
        '/api/qa/review/create',
        { contentId: input.contentId, priority: input.priority },
        input.key,
      );
      return { reviewId: String(doc.reviewId ?? ''), contentId: input.contentId, status: String(doc.status ?? 'open') };
    },

    /** Records a review's outcome. Safe to retry: a review keeps its first outcome. */
    async completeContentReview(input: ContentReview & { key: string }) {
      const doc = await post(
        '/api/qa/review/complete',
        { reviewId: input.reviewId, outcome: input.outcome, reviewer: input.reviewer },
        input.key,
      );
      return { reviewId: input.reviewId, status: String(doc.status ?? input.outcome) };
    },

    /** `curl /api/ai-monitoring/vector-store/status` and `/api/vector-store/stats`. */
    async vectorStoreReport(): Promise<VectorStoreReport> {
      const { doc: status } = await get('/api/ai-monitoring/vector-store/status', true);
      const { doc: stats } = await get('/api/vector-store/stats');
      const total = num(stats.totalVectors);
      const indexed = num(stats.indexedVectors);
      return {
        status: String(status.status ?? 'unknown'),
        healthy: status.status === 'healthy',
        error: text(status.error),
        totalVectors: total,
        indexedVectors: indexed,
        indexedRatio: total === 0 ? 0 : Number((indexed / total).toFixed(4)),
      };
    },

    /**
     * `curl -X POST /api/vector-store/rebuild`. Safe to retry: the store answers a repeat with the rebuild already
     * running rather than starting another, and the Idempotency-Key is the workflow's.
     */
    async startIndexRebuild(input: { key: string }): Promise<IndexRebuild> {
      const doc = await post('/api/vector-store/rebuild', {}, input.key);
      return {
        rebuildId: String(doc.rebuildId ?? ''),
        state: String(doc.state ?? 'running'),
        progress: num(doc.progress),
      };
    },

    /**
     * Follows a rebuild to its end, heartbeating its progress; a retry simply looks again. Fails for good when the
     * rebuild failed, was replaced by another, or is not complete after `timeoutSeconds`.
     */
    async awaitIndexRebuild(input: { rebuildId: string; timeoutSeconds: number }): Promise<IndexRebuild> {
      if (!input?.rebuildId) throw invalidInput('rebuildId', 'is required');
      const deadline = Date.now() + input.timeoutSeconds * 1000;
      for (;;) {
        const now = await rebuildStatus();
        if (now.rebuildId !== input.rebuildId) {
          throw ApplicationFailure.create({
            type: FailureType.BadUpstreamResponse,
            message: `vector index rebuild ${input.rebuildId} was replaced by ${now.rebuildId}`,
            nonRetryable: true,
          });
        }
        if (now.state === 'complete') return now;
        if (now.state === 'failed') {
          throw ApplicationFailure.create({
            type: FailureType.BadUpstreamResponse,
            message: `vector index rebuild ${input.rebuildId} failed at ${Math.round(now.progress * 100)} %`,
            nonRetryable: true,
          });
        }
        if (Date.now() > deadline) {
          throw ApplicationFailure.create({
            type: FailureType.BadUpstreamResponse,
            message: `vector index rebuild ${input.rebuildId} not complete after ${input.timeoutSeconds} s (at ${Math.round(now.progress * 100)} %)`,
            nonRetryable: true,
          });
        }
        await pollPause(now, deps.pollIntervalMs ?? 1000);
      }
    },

    /** A test query against the index: the seed's "verify" of a rebuild. A failed query is an answer, not an error. */
    async vectorTestQuery(input: { query: string }): Promise<VectorQueryResult> {
      const url = `${base()}/api/vector-store/query`;
      // A read: the same query may be sent any number of times.
      const res = await wedsyncPost(url, deps, { query: input.query, topK: 3 }, `test-query:${input.query}`).catch(
        (err: ApplicationFailure) => {
          if (err.type === FailureType.UpstreamUnavailable) return undefined;
          throw err;
        },
      );
      if (!res) return { ok: false, matches: 0, error: 'the query failed (5xx)' };
      const doc = expectObject(url, res);
      const matches = Array.isArray(doc.matches) ? doc.matches.length : 0;
      return { ok: matches > 0, matches, error: matches > 0 ? undefined : 'no matches' };
    },
  };
}
