/** A workflow's timeline, as its status query shows it to people: the latest events, however many there were. */
export interface TimelineEvent {
  at: string;
  event: string;
}

/** Events a status shows; the audit log keeps them all. An alert re-fired 10,000 times must not make a 10 MB status. */
export const TIMELINE_SHOWN = 200;

export interface Timeline {
  timeline: TimelineEvent[];
  /** Events older than the timeline shows. */
  earlierEvents: number;
}

/** Adds an event, dropping the oldest beyond TIMELINE_SHOWN. Workflow-safe: `at` comes from the caller's clock. */
export function addToTimeline(state: Timeline, at: string, event: string): void {
  state.timeline.push({ at, event });
  if (state.timeline.length > TIMELINE_SHOWN) {
    state.earlierEvents += state.timeline.length - TIMELINE_SHOWN;
    state.timeline.splice(0, state.timeline.length - TIMELINE_SHOWN);
  }
}
