/** What each fault scenario of test/chaos reports: a row of the table `npm run chaos` prints, its counts summed over the scenario's runs. */
export interface ScenarioTally {
  scenario: string;
  runs: number;
  completed: number;
  /**
   * Runs that failed and paged someone, where the scenario's fault outlasts the step's retries by design (a dump
   * cannot resume, so it has few attempts): what the procedure must then do.
   */
  paged: number;
  /** Effects beyond what one clean run produces, counted where they land. */
  duplicated: number;
  /** Work a clean run does that was not done (keys or rows left, couples never told). */
  lost: number;
  /** Runs that neither completed nor paged anyone within the scenario's deadline. */
  stuck: number;
  /** Seconds from the fault's end (the kill, or the dependency back) to the workflow's result, per completed run. */
  recoverySeconds: number[];
  /** What else was seen, for the reader of the table. */
  notes: string[];
}
