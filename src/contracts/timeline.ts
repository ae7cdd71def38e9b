/** A workflow's timeline, as its status query shows it to people. Types only. */
export interface TimelineEvent {
  at: string;
  event: string;
}
