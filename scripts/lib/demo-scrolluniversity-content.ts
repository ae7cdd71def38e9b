/**
 * A local stand-in for ScrollUniversity's content-quality and retrieval endpoints (seed 000 Issue 5, Theological
 * Alignment Failures, and Issue 7, Vector Store Issues), with state that the runbooks' fixes change:
 *
 * - `theological-checker` switched to `flagged-content` flags three pieces of content; each review completed
 *   (`POST /api/qa/review/complete`) takes one off the list, and the alignment score is back above the 90 % SLO
 *   once none is left, when the checker turns `healthy` again.
 * - `vector-store` switched to `index-degraded` reports a degraded index and fails test queries until a rebuild
 *   (`POST /api/vector-store/rebuild`) has run to the end; `index-degraded-sticky` stays degraded after one.
 *
 * Database connection figures are not served here: the runbook reads them from PostgreSQL's pg_stat_activity.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DemoConditions } from './demo-conditions';

export interface ContentAnswer {
  status: number;
  body: unknown;
}

/** The content the checker flags while `flagged-content` is on. */
const FLAGGED = [
  { contentId: 'lesson-genesis-3-summary', course: 'OT101', score: 0.61, reason: 'doctrinal claim without source' },
  { contentId: 'quiz-romans-5-q4', course: 'NT210', score: 0.68, reason: 'answer key contradicts course notes' },
  { contentId: 'essay-feedback-7781', course: 'TH300', score: 0.7, reason: 'tone inconsistent with faculty guidance' },
];

const HEALTHY_ALIGNMENT = 0.96;
const TOTAL_VECTORS = 120_000;

export class ScrollUniversityContent {
  private readonly reviews = new Map<string, { reviewId: string; contentId: string; outcome?: string }>();
  private rebuild?: { rebuildId: string; startedAt: number; restores: boolean; finished: boolean };
  private rebuilds = 0;

  constructor(
    private readonly conditions: DemoConditions,
    /** How long a rebuild takes from start to 100 %. */
    private readonly rebuildMs = 4000,
  ) {}

  private flagged() {
    if (this.conditions.get('theological-checker') !== 'flagged-content') return [];
    return FLAGGED.filter((f) => this.reviews.get(f.contentId)?.outcome === undefined);
  }

  private indexDegraded(): boolean {
    this.advanceRebuild();
    return this.conditions.get('vector-store').startsWith('index-degraded');
  }

  /** A finished rebuild restores the index, unless the condition is the sticky one. */
  private advanceRebuild() {
    const r = this.rebuild;
    if (!r || r.finished || Date.now() - r.startedAt < this.rebuildMs) return;
    r.finished = true;
    if (r.restores && this.conditions.get('vector-store') === 'index-degraded') {
      this.conditions.set({ service: 'vector-store', condition: 'healthy' });
    }
  }

  /** The answer to a request, or undefined when the path is not one of these endpoints. */
  answer(method: string, path: string, body: string): ContentAnswer | undefined {
    const route = `${method} ${path}`;
    const json = (): Record<string, unknown> => {
      try {
        const parsed: unknown = JSON.parse(body || '{}');
        return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
      } catch {
        return {};
      }
    };
    switch (route) {
      case 'GET /api/qa/theological-alignment/metrics': {
        const flagged = this.flagged();
        const alignment = flagged.length ? 0.78 : HEALTHY_ALIGNMENT;
        return {
          status: 200,
          body: { alignmentScore: alignment, flaggedCount: flagged.length, reviewsOpen: this.openReviews() },
        };
      }
      case 'GET /api/qa/theological-alignment/flagged':
        return { status: 200, body: { items: this.flagged() } };
      case 'POST /api/qa/review/create': {
        const { contentId, priority } = json();
        if (!FLAGGED.some((f) => f.contentId === contentId)) {
          return { status: 404, body: { error: `contentId: no flagged content ${String(contentId)}` } };
        }
        const id = String(contentId);
        // One review per piece of content: asking again returns the review already open.
        let review = this.reviews.get(id);
        if (!review) {
          review = { reviewId: `review-${id}`, contentId: id };
          this.reviews.set(id, review);
        }
        return { status: 201, body: { ...review, priority: priority ?? 'normal', status: review.outcome ?? 'open' } };
      }
      case 'POST /api/qa/review/complete': {
        const { reviewId, outcome } = json();
        const review = [...this.reviews.values()].find((r) => r.reviewId === reviewId);
        if (!review) return { status: 404, body: { error: `reviewId: no review ${String(reviewId)}` } };
        if (outcome !== 'approved' && outcome !== 'withdrawn') {
          return { status: 400, body: { error: 'outcome: must be approved or withdrawn' } };
        }
        review.outcome ??= outcome;
        if (this.conditions.get('theological-checker') === 'flagged-content' && this.flagged().length === 0) {
          this.conditions.set({ service: 'theological-checker', condition: 'healthy' });
          this.reviews.clear();
        }
        return { status: 200, body: { ...review, status: review.outcome } };
      }
      case 'GET /api/ai-monitoring/vector-store/status': {
        const degraded = this.indexDegraded();
        return {
          status: 200,
          body: degraded
            ? { status: 'degraded', indexHealthy: false, error: 'index shards out of date with the embeddings' }
            : { status: 'healthy', indexHealthy: true },
        };
      }
      case 'GET /api/vector-store/stats': {
        const degraded = this.indexDegraded();
        const indexed = degraded ? Math.round(TOTAL_VECTORS * 0.7) : TOTAL_VECTORS;
        return {
          status: 200,
          body: { totalVectors: TOTAL_VECTORS, indexedVectors: indexed, dimension: 1536, rebuilds: this.rebuilds },
        };
      }
      case 'POST /api/vector-store/rebuild': {
        this.advanceRebuild();
        // A rebuild already running is the one every repeat of the request gets.
        if (!this.rebuild || this.rebuild.finished) {
          this.rebuilds += 1;
          this.rebuild = {
            rebuildId: `rebuild-${this.rebuilds}`,
            startedAt: Date.now(),
            restores: this.conditions.get('vector-store') !== 'index-degraded-sticky',
            finished: false,
          };
        }
        return { status: 202, body: this.rebuildStatus() };
      }
      case 'GET /api/vector-store/rebuild/status':
        this.advanceRebuild();
        return this.rebuild
          ? { status: 200, body: this.rebuildStatus() }
          : { status: 404, body: { error: 'no rebuild has run' } };
      case 'POST /api/vector-store/query': {
        const { query } = json();
        if (typeof query !== 'string' || !query) return { status: 400, body: { error: 'query: required' } };
        if (this.indexDegraded()) return { status: 503, body: { error: 'vector index degraded: query failed' } };
        return {
          status: 200,
          body: {
            matches: [
              { id: 'doc-romans-5', score: 0.91 },
              { id: 'doc-john-1', score: 0.87 },
            ],
          },
        };
      }
      default:
        return undefined;
    }
  }

  private openReviews(): number {
    return [...this.reviews.values()].filter((r) => r.outcome === undefined).length;
  }

  private rebuildStatus() {
    const r = this.rebuild!;
    const progress = r.finished ? 1 : Math.min(0.99, (Date.now() - r.startedAt) / this.rebuildMs);
    return {
      rebuildId: r.rebuildId,
      state: r.finished ? 'complete' : 'running',
      progress: Number(progress.toFixed(2)),
    };
  }

  /** Serves the request when it is one of these endpoints; returns false to leave it to the other routes. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '').split('?')[0];
    if (!ROUTES.has(`${req.method ?? 'GET'} ${path}`)) return false;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = this.answer(req.method ?? 'GET', path, Buffer.concat(chunks).toString())!;
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
    return true;
  }
}

/** Every endpoint answered here. */
export const ROUTES = new Set([
  'GET /api/qa/theological-alignment/metrics',
  'GET /api/qa/theological-alignment/flagged',
  'POST /api/qa/review/create',
  'POST /api/qa/review/complete',
  'GET /api/ai-monitoring/vector-store/status',
  'GET /api/vector-store/stats',
  'POST /api/vector-store/rebuild',
  'GET /api/vector-store/rebuild/status',
  'POST /api/vector-store/query',
]);
