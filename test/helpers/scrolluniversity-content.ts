/** The local stack's ScrollUniversity content endpoints, served by a suite's own receiver with state of its own. */
import { DemoConditions, type DemoCondition } from '../../scripts/lib/demo-conditions';
import { ROUTES, ScrollUniversityContent } from '../../scripts/lib/demo-scrolluniversity-content';
import type { HttpReceiver } from './http-receiver';

export interface ContentService {
  conditions: DemoConditions;
  content: ScrollUniversityContent;
  set(service: 'theological-checker' | 'vector-store', condition: DemoCondition): void;
}

export function serveContent(receiver: HttpReceiver, rebuildMs = 1500): ContentService {
  const conditions = new DemoConditions();
  const content = new ScrollUniversityContent(conditions, rebuildMs);
  for (const route of ROUTES) {
    const path = route.split(' ')[1];
    receiver.route(
      path,
      (req) => content.answer(req.method, req.path, req.body) ?? { status: 405, body: { error: 'method' } },
    );
  }
  return {
    conditions,
    content,
    set(service, condition) {
      const problem = conditions.set({ service, condition });
      if (problem) throw new Error(problem);
    },
  };
}
